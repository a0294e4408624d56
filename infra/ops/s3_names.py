"""What S3 accepts as a bucket name, a region name and an endpoint URL: argparse types.

Kept apart from the bucket tool so that preflight can check an ``s3://`` backend URL by the same
rules without importing boto3. Each function returns its value unchanged or raises
``argparse.ArgumentTypeError`` with a message that names the rule broken and the fix.
"""

from __future__ import annotations

import argparse
import re
from typing import Final
from urllib.parse import urlsplit

# AWS's rules for general purpose bucket names
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET_NAME: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS_SHAPED: Final = re.compile(r"[0-9]+(\.[0-9]+){3}")
RESERVED_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


def bucket_name(value: str) -> str:
    """An S3 bucket name AWS accepts; argparse type (the error names the rule it breaks)."""
    problem = None
    if not 3 <= len(value) <= 63:  # noqa: PLR2004 (AWS's limits)
        unit = "character" if len(value) == 1 else "characters"
        problem = f"is {len(value)} {unit} long; a bucket name has 3 to 63"
    elif not _BUCKET_NAME.fullmatch(value):
        problem = (
            "may hold only a-z, 0-9, '.' and '-', and must begin and end with a letter or digit"
        )
    elif ".." in value:
        problem = "has two adjacent periods"
    elif _IP_ADDRESS_SHAPED.fullmatch(value):
        problem = "is formatted as an IP address"
    elif prefix := next((p for p in RESERVED_PREFIXES if value.startswith(p)), None):
        problem = f"starts with {prefix!r}, a prefix AWS reserves"
    elif suffix := next((s for s in RESERVED_SUFFIXES if value.endswith(s)), None):
        problem = f"ends with {suffix!r}, a suffix AWS reserves"
    if problem:
        raise argparse.ArgumentTypeError(
            f"{value!r} {problem}; choose a name such as agent-platform-state"
        )
    return value


def endpoint_url(value: str) -> str:
    """An http(s) URL with a host, and no credentials in it; argparse type."""
    fix = "give an http(s) URL such as http://127.0.0.1:9000"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a URL ({error}); {fix}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL with a host; {fix}")
    if any(character.isspace() for character in value):
        raise argparse.ArgumentTypeError(f"{value!r} contains white space; {fix}")
    if parts.username is not None or parts.password is not None:
        raise argparse.ArgumentTypeError(
            "the URL carries credentials; pass them in AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead"
        )
    if port == 0:
        raise argparse.ArgumentTypeError(f"{value!r} has port 0; {fix}")
    return value


def region_name(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a region name; give one such as eu-west-1"
        )
    return value
