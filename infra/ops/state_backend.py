"""The Pulumi state backend for preflight: which URLs are usable, and whether the backend answers.

Owns the reading of a backend URL (``--backend`` or PULUMI_BACKEND_URL) into what it names
(for ``s3://``: bucket, region, endpoint, checked by the same rules as bootstrap-bucket) and the
"state backend" check. boto3 is imported only when an ``s3://`` backend is checked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from infra.ops.preflight_checks import Check, run_tool
from infra.ops.s3_names import bucket_name, endpoint_url, region_name

BACKEND_SCHEMES: Final = ("file", "s3", "gs", "azblob", "https", "http")
_HOST_PORT: Final = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def backend_check(url: str | None) -> Check:
    wanted = "reachable"
    if url is None:
        whoami = run_tool(["pulumi", "whoami", "--json"])
        if whoami.timed_out:
            return Check(
                "state backend",
                True,
                wanted,
                f"pulumi whoami {whoami.problem}",
                False,
                "the backend pulumi is logged in to does not answer; check the network, or "
                "pass --backend (or set PULUMI_BACKEND_URL)",
            )
        if whoami.output:
            try:
                url = json.loads(whoami.output).get("url")
            except ValueError:
                url = None
    if not url:
        return Check(
            "state backend",
            True,
            wanted,
            "none selected",
            False,
            "scripts/up selects file://~/.pulumi-agent-platform itself; by hand, set"
            " PULUMI_BACKEND_URL or run pulumi login (see README)",
        )
    parsed = urlsplit(url)
    if parsed.scheme == "file":
        path = Path(os.path.expanduser(parsed.netloc + parsed.path))
        if path.is_symlink() and not path.exists():
            return Check(
                "state backend",
                True,
                wanted,
                url,
                False,
                f"{path} is a symbolic link to nothing; create the directory it points to, "
                "or remove the link",
            )
        # A directory not made yet is judged by its parent (scripts/up makes it after this).
        target = path if path.exists() else path.parent
        ok = target.is_dir() and os.access(target, os.W_OK)
        return Check(
            "state backend", True, wanted, url, ok, "" if ok else f"{target} is not writable"
        )
    if parsed.scheme == "s3":
        return _s3_backend_check(url, S3Backend.parse(url))
    whoami = run_tool(["pulumi", "whoami"])
    ok = whoami.output is not None
    hint = "" if ok else "run pulumi login " + url
    if whoami.timed_out:
        hint = f"pulumi whoami {whoami.problem}; check the network and the backend"
    return Check("state backend", True, wanted, url, ok, hint)


@dataclass(frozen=True)
class S3Backend:
    """What an s3:// backend URL says, checked: bucket, region, endpoint (with its scheme)."""

    bucket: str
    region: str | None
    endpoint: str | None

    @classmethod
    def parse(cls, url: str) -> S3Backend:
        """Raises ValueError naming what is wrong and how to write it."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        region = query.get("region", [None])[0]
        endpoint = query.get("endpoint", [None])[0]
        try:
            bucket = bucket_name(parts.netloc)
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"bucket {error}") from None
        try:
            if region is not None:
                region_name(region)
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"region: {error}") from None
        if endpoint is not None and "://" not in endpoint:
            # Pulumi (gocloud) takes host:port and picks the scheme from disableSSL.
            if not _HOST_PORT.fullmatch(endpoint):
                raise ValueError(
                    f"endpoint: {endpoint!r} is neither an http(s) URL nor host:port; give one "
                    "such as http://127.0.0.1:9000"
                )
            insecure = query.get("disableSSL", ["false"])[0].lower() == "true"
            endpoint = ("http://" if insecure else "https://") + endpoint
        try:
            if endpoint is not None:
                endpoint_url(endpoint)
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"endpoint: {error}") from None
        return cls(bucket, region, endpoint)


def _s3_backend_check(url: str, backend: S3Backend) -> Check:
    import boto3  # noqa: PLC0415 (only for s3:// backends)
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    client = boto3.client(
        "s3",
        region_name=backend.region,
        endpoint_url=backend.endpoint,
        config=Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 1}),
    )
    try:
        client.head_bucket(Bucket=backend.bucket)
    except (BotoCoreError, ClientError) as error:
        return Check(
            "state backend",
            True,
            "reachable",
            url,
            False,
            f"{error}; create it with scripts/bootstrap-bucket {backend.bucket}",
        )
    return Check("state backend", True, "reachable", url, True)


def backend_url(value: str) -> str:
    """A state backend URL preflight can check; argparse type (errors name the fix)."""
    example = (
        "use one such as file://~/.pulumi-agent-platform or "
        "s3://agent-platform-state?region=eu-west-1"
    )
    try:
        parts = urlsplit(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a URL ({error}); {example}") from None
    if parts.scheme not in BACKEND_SCHEMES or any(
        c.isspace() or not c.isprintable() for c in value
    ):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a Pulumi backend URL ({', '.join(BACKEND_SCHEMES)}); {example}"
        )
    if parts.scheme == "s3":
        try:
            S3Backend.parse(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{value!r}: {error}") from None
    elif parts.scheme != "file" and not parts.netloc:
        raise argparse.ArgumentTypeError(f"{value!r} has no host or bucket; {example}")
    return value
