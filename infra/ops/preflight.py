"""preflight: is this machine ready for ``pulumi up`` of a stack?

Checks the tools against the minimum versions the README states, that the stack's host ports
(gateway, local registry) are free, and that the Pulumi state backend answers. Prints a table
(or JSON with ``--json``) on stdout. Exit codes: 0 ready, 1 something required is missing or
failing, 2 bad input (unknown stack, invalid stack file, a ``--backend`` or
``PULUMI_BACKEND_URL`` that is not a usable backend URL: a usage error naming it).

Every tool gets TOOL_TIMEOUT_SECONDS; one that does not answer in time is stopped with its whole
process group and reported as not answering, never taken for absent (no cluster, no login).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from infra.cli import bad_stack, stack_parser
from infra.settings import (
    ConfigError,
    StackError,
    StackSettings,
    settings_from_stack_file,
)

TOOL_TIMEOUT_SECONDS: float = 10
BACKEND_SCHEMES: Final = ("file", "s3", "gs", "azblob", "https", "http")
_HOST_PORT: Final = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")

MINIMUM_VERSIONS: Final = {
    "pulumi": "3.187.0",
    "kind": "0.30.0",
    "kubectl": "1.33.0",
    "docker": "24.0.0",
    "podman": "4.9.0",
}
"""The README's prerequisites table states the same numbers (a test keeps them equal)."""

EXIT_READY: Final = 0
EXIT_NOT_READY: Final = 1
EXIT_BAD_INPUT: Final = 2


@dataclass
class Check:
    name: str
    required: bool
    wanted: str
    found: str
    ok: bool
    hint: str = ""


@dataclass(frozen=True)
class ToolRun:
    """A tool's stdout (None unless it succeeded) and, when it did not, why."""

    output: str | None
    problem: str = ""

    @property
    def timed_out(self) -> bool:
        return self.problem.startswith("did not answer")


def run_tool(command: Sequence[str]) -> ToolRun:
    """Run a tool with a time bound; on the bound, stop it and everything it started."""
    if shutil.which(command[0]) is None:
        return ToolRun(None, "missing")
    process = subprocess.Popen(  # noqa: S603 (fixed tool commands, no shell)
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a hung tool's children go too
    )
    try:
        stdout, _ = process.communicate(timeout=TOOL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return ToolRun(None, f"did not answer within {TOOL_TIMEOUT_SECONDS:g}s")
    if process.returncode != 0:
        return ToolRun(None, f"failed (status {process.returncode})")
    return ToolRun(stdout)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _extract_version(output: str | None) -> str | None:
    if output is None:
        return None
    match = re.search(r"v?(\d+\.\d+\.\d+)", output)
    return match[1] if match else None


def tool_check(name: str, command: Sequence[str], hint: str, required: bool = True) -> Check:
    wanted = f">= {MINIMUM_VERSIONS[name]}"
    run = run_tool(command)
    output = run.output
    if name == "kubectl" and output:
        try:
            output = json.loads(output)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError):
            output = None
    version = _extract_version(output)
    if version is None:
        found = "missing" if shutil.which(command[0]) is None else "no answer"
        if run.timed_out:
            found = f"no answer within {TOOL_TIMEOUT_SECONDS:g}s"
        return Check(name, required, wanted, found, False, hint)
    ok = _version_tuple(version) >= _version_tuple(MINIMUM_VERSIONS[name])
    return Check(name, required, wanted, version, ok, "" if ok else f"upgrade: {hint}")


def container_engine_check() -> Check:
    if shutil.which("docker") or not shutil.which("podman"):
        check = tool_check(
            "docker",
            ["docker", "version", "--format", "{{.Server.Version}}"],
            "install Docker Engine 24+ and start it (the server version needs the daemon)",
        )
    else:
        check = tool_check(
            "podman",
            ["podman", "version", "--format", "{{.Version}}"],
            "install Podman 4.9+ and set KIND_EXPERIMENTAL_PROVIDER=podman",
        )
    check.name = f"{check.name} (container engine)"
    return check


def kind_clusters() -> set[str] | None:
    """The kind clusters on this machine; None when kind could not list them."""
    run = run_tool(["kind", "get", "clusters"])
    if run.output is None:
        return None
    return set(run.output.split())


def port_check(
    label: str, address: str, port: int, cluster: str, clusters: set[str] | None
) -> Check:
    wanted = f"{address}:{port} free"
    if clusters is not None and cluster in clusters:
        return Check(label, True, wanted, f"held by kind cluster {cluster}", True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError as error:
            hint = f"free port {port} or choose another in Pulumi.<stack>.yaml"
            if clusters is None:
                hint += (
                    f"; 'kind get clusters' did not answer, so whether kind cluster {cluster} "
                    "holds it is unknown"
                )
            return Check(label, True, wanted, f"in use ({error.strerror})", False, hint)
    return Check(label, True, wanted, "free", True)


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
            "pulumi login file://~/.pulumi-agent-platform (see README), or set PULUMI_BACKEND_URL",
        )
    parsed = urlsplit(url)
    if parsed.scheme == "file":
        path = Path(os.path.expanduser(parsed.netloc + parsed.path))
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
        from infra.ops.bootstrap_bucket import (  # noqa: PLC0415 (boto3 only for s3://)
            bucket_name,
            endpoint_url,
            region_name,
        )

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


def run_checks(settings: StackSettings, backend: str | None) -> list[Check]:
    checks = [
        tool_check("pulumi", ["pulumi", "version"], "https://www.pulumi.com/docs/install/"),
    ]
    if settings.cluster.target == "kind":
        checks += [
            tool_check("kind", ["kind", "version"], "https://kind.sigs.k8s.io (v0.30.0+)"),
            container_engine_check(),
        ]
    checks.append(
        tool_check(
            "kubectl",
            ["kubectl", "version", "--client", "-o", "json"],
            "https://kubernetes.io/docs/tasks/tools/",
            required=settings.cluster.target != "render",
        )
    )
    if settings.cluster.target == "kind":
        clusters = kind_clusters()
        cluster = settings.cluster_name
        checks.append(
            port_check(
                "gateway host port",
                settings.cluster.listen_address,
                settings.cluster.gateway_host_port,
                cluster,
                clusters,
            )
        )
        if settings.cluster.registry.enabled:
            checks.append(
                port_check(
                    "registry host port",
                    "127.0.0.1",
                    settings.cluster.registry.host_port,
                    settings.cluster.registry.name,
                    set(),
                )
            )
    checks.append(backend_check(backend))
    return checks


def format_table(checks: Sequence[Check]) -> str:
    rows = [("CHECK", "REQUIRED", "WANT", "FOUND", "STATUS")]
    for check in checks:
        status = "ok" if check.ok else ("FAIL" if check.required else "warn")
        rows.append(
            (check.name, "yes" if check.required else "no", check.wanted, check.found, status)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]  # fmt: skip
    hints = [f"- {check.name}: {check.hint}" for check in checks if not check.ok and check.hint]
    return "\n".join([line.rstrip() for line in lines] + (["", *hints] if hints else []))


def main(argv: Sequence[str] | None = None) -> int:
    parser = stack_parser(
        "preflight",
        "Check that this machine is ready for `pulumi up` of a stack.",
        "scripts/preflight --stack studio",
    )
    parser.add_argument(
        "--backend", type=backend_url, help="state backend URL (default: PULUMI_BACKEND_URL)"
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    args = parser.parse_args(argv)
    backend = args.backend
    if backend is None and os.environ.get("PULUMI_BACKEND_URL"):
        try:
            backend = backend_url(os.environ["PULUMI_BACKEND_URL"])
        except argparse.ArgumentTypeError as error:
            parser.error(f"PULUMI_BACKEND_URL: {error}")

    try:
        settings = settings_from_stack_file(args.stack, args.project_dir)
    except (StackError, ConfigError) as error:
        return bad_stack("preflight", error)

    checks = run_checks(settings, backend)
    if args.json:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        print(format_table(checks))
    failed = [check for check in checks if check.required and not check.ok]
    return EXIT_NOT_READY if failed else EXIT_READY


if __name__ == "__main__":
    sys.exit(main())
