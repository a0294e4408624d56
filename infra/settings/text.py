"""Free text the settings take, each checked against what its consumer accepts (a git revision,
a kubeconfig context, a directory, an S3 bucket and region, a command line, a collection) and
never holding a control character: no value is passed on unvalidated."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Final

from pydantic import (
    AfterValidator,
)

from infra.settings.matching import fullmatch_or_raise

# A branch, tag or commit as the Hugging Face Hub takes it (`--revision` of TEI): git's
# ref-name rules, narrowed to characters that need no quoting anywhere.
_GIT_REVISION_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}", re.ASCII)


def _validate_git_revision(text: str) -> str:
    if (
        _GIT_REVISION_RE.fullmatch(text) is None
        or ".." in text
        or "//" in text
        or "/." in text
        or text.endswith(("/", ".", ".lock"))
    ):
        raise ValueError(
            f"{text[:60]!r} is not a git revision; use a commit sha (40 hex digits, from the "
            "model page's history) or a branch or tag name such as main or v1.0: at most 200 "
            "of letters, digits and . _ / -, not starting with '-'"
        )
    return text


# Context names are free-form in a kubeconfig; these cover kind-*, gke_*, EKS ARNs, user@name.
_CONTEXT_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:@/+=-]{0,252}", re.ASCII)


def _validate_context(text: str) -> str:
    return fullmatch_or_raise(
        _CONTEXT_RE,
        text,
        f"{text[:60]!r} is not a kubeconfig context name this program takes: 1-253 of "
        "letters, digits and . _ : @ / + = - (starting with a letter, digit or '_'); list "
        "them with `kubectl config get-contexts`, rename one with "
        "`kubectl config rename-context OLD NEW`",
    )


def refuse_control_characters(text: str) -> None:
    for position, character in enumerate(text, start=1):
        if not character.isprintable():
            raise ValueError(
                f"has a control character ({character!r}) at position {position}; remove it"
            )


RENDER_DIRECTORY_MAX_LENGTH: Final = 1024


def _validate_render_directory(text: str) -> str:
    """A path, relative to the project directory or absolute; written as given."""
    if not text:
        raise ValueError("is empty; write a directory, e.g. rendered or /srv/gitops/platform")
    refuse_control_characters(text)
    if text != text.strip():
        raise ValueError("starts or ends with a space; remove it")
    if text.startswith("~") or "$" in text:
        raise ValueError(
            "uses '~' or '$', which are not expanded here; write the path out, "
            "e.g. /home/me/gitops/platform"
        )
    if len(text) > RENDER_DIRECTORY_MAX_LENGTH:
        raise ValueError(f"is longer than {RENDER_DIRECTORY_MAX_LENGTH} characters")
    return text


_BUCKET_RE: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)


def _validate_bucket(text: str) -> str:
    if _BUCKET_RE.fullmatch(text) is None or any(bad in text for bad in ("..", ".-", "-.")):
        raise ValueError(
            f"{text[:70]!r} is not an S3 bucket name: 3-63 of a-z, 0-9, '.' and '-', starting "
            "and ending with a letter or digit, no '..'"
        )
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return text
    raise ValueError(f"{text!r} is an IP address, which S3 does not allow as a bucket name")


_REGION_RE: Final = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def _validate_region(text: str) -> str:
    return fullmatch_or_raise(
        _REGION_RE,
        text,
        f"{text[:70]!r} is not a region name: at most 63 of a-z, 0-9 and '-' (not first or "
        "last), e.g. us-east-1 (MinIO: its configured region, us-east-1 by default)",
    )


COMMAND_MAX_ENTRIES: Final = 64
COMMAND_ENTRY_MAX_LENGTH: Final = 1024


def _validate_command_entry(text: str) -> str:
    """One argument of a container command: passed as is (no shell), so any printable text."""
    if not text:
        raise ValueError("is an empty argument; remove it, or give it a value")
    refuse_control_characters(text)
    if len(text) > COMMAND_ENTRY_MAX_LENGTH:
        raise ValueError(f"is longer than {COMMAND_ENTRY_MAX_LENGTH} characters")
    return text


def _validate_command(command: tuple[str, ...]) -> tuple[str, ...]:
    if not command:
        raise ValueError(
            "is empty; give the program and its arguments, "
            "e.g. [mcp-server-qdrant, --transport, streamable-http]"
        )
    if len(command) > COMMAND_MAX_ENTRIES:
        raise ValueError(f"has {len(command)} entries; at most {COMMAND_MAX_ENTRIES}")
    return command


_COLLECTION_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,255}", re.ASCII)


def _validate_collection(text: str) -> str:
    return fullmatch_or_raise(
        _COLLECTION_RE,
        text,
        f"{text[:60]!r} is not a collection name this program takes: 1-255 of letters, "
        "digits, '_' and '-', e.g. agent-memory",
    )


_CRON_FIELDS: Final = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)
_CRON_ITEM_RE: Final = re.compile(r"(\*|(\d{1,2})(-(\d{1,2}))?)(/(\d{1,2}))?", re.ASCII)


def _validate_cron(text: str) -> str:
    """Five fields of numbers, ranges, lists and steps, each within its field's bounds (names
    such as MON and macros such as @daily are not taken: write them out)."""
    fields = text.split(" ")
    if len(fields) != len(_CRON_FIELDS):
        raise ValueError(
            f"{text!r} is not a cron schedule of five fields separated by single spaces "
            "(minute hour day-of-month month day-of-week), e.g. '17 3 * * *' (03:17 UTC daily)"
        )
    for field, (what, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        for item in field.split(","):
            match = _CRON_ITEM_RE.fullmatch(item)
            numbers = [int(n) for n in (match.group(2), match.group(4)) if n] if match else []
            step = int(match.group(6)) if match and match.group(6) else 1
            if (
                match is None
                or any(not low <= n <= high for n in numbers)
                or numbers != sorted(numbers)  # a range runs upwards, as Kubernetes reads it
                or step < 1
            ):
                raise ValueError(
                    f"{text!r}: the {what} field {field!r} is not numbers {low}-{high}, '*', "
                    "ranges (a-b), lists (a,b) or steps (*/n)"
                )
    return text


CronSchedule = Annotated[str, AfterValidator(_validate_cron)]
GitRevision = Annotated[str, AfterValidator(_validate_git_revision)]
RenderDirectory = Annotated[str, AfterValidator(_validate_render_directory)]
BucketName = Annotated[str, AfterValidator(_validate_bucket)]
Region = Annotated[str, AfterValidator(_validate_region)]
CommandEntry = Annotated[str, AfterValidator(_validate_command_entry)]
Command = Annotated[tuple[CommandEntry, ...], AfterValidator(_validate_command)]
"""The MCP server's command line: one program and its arguments, each printable."""
CollectionName = Annotated[str, AfterValidator(_validate_collection)]
"""A Qdrant collection name, with a message that says what to write."""
KubeContext = Annotated[str, AfterValidator(_validate_context)]
