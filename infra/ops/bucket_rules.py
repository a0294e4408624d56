"""Lifecycle rules of a state bucket: the rule this tool writes, and what makes any rule unsafe.

Pure functions over the rule dictionaries S3 returns (no client, no I/O), so the judgement of
a bucket's lifecycle can be read and tested apart from the calls that fetch and write it. A
rule is unsafe, wherever it applies (a prefix may hold state), when it expires current objects,
expires non-current versions sooner than wanted, or moves objects to an archive class that must
be restored before it can be read.
"""

from __future__ import annotations

import json
from typing import Any, Final

LIFECYCLE_RULE_ID: Final = "agent-platform-expire-noncurrent"
ABORT_MULTIPART_DAYS: Final = 7
# Storage classes whose objects cannot be read until restored: state moved there is unusable.
ARCHIVE_CLASSES: Final = frozenset({"GLACIER", "DEEP_ARCHIVE"})


def our_rule(noncurrent_days: int) -> dict[str, Any]:
    """The rule --fix writes (and replaces, by its ID): the whole bucket, old versions, uploads."""
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
    }


def lifecycle_problems(rules: list[dict[str, Any]], want_days: int) -> list[str]:
    """Everything wrong with a bucket's rules: what is missing, then every rule's dangers."""
    return [
        *_whole_bucket_problems(rules, want_days),
        *(problem for rule in rules for problem in dangers(rule, want_days)),
    ]


def _whole_bucket_problems(rules: list[dict[str, Any]], want: int) -> list[str]:
    """What keeps the rules from expiring old versions and aborting uploads bucket-wide."""
    enabled = [rule for rule in rules if rule.get("Status") == "Enabled"]
    whole = [rule for rule in enabled if scope(rule) is None]
    problems = []
    if not any(noncurrent_days(rule) == want for rule in whole):
        ours = next((rule for rule in rules if rule.get("ID") == LIFECYCLE_RULE_ID), None)
        if ours is not None and ours.get("Status") == "Enabled" and scope(ours) is not None:
            problems.append(
                f"rule {LIFECYCLE_RULE_ID!r} applies only to {scope(ours)}; want the whole bucket"
            )
        days = sorted({d for rule in whole if (d := noncurrent_days(rule)) is not None})
        problems.append(
            "no enabled rule expires non-current versions of the whole bucket after "
            f"{want} days" + (f" (found {days})" if days else "")
        )
    if not any("AbortIncompleteMultipartUpload" in rule for rule in whole):
        problems.append("no enabled rule for the whole bucket aborts incomplete uploads")
    return problems


def scope(rule: dict[str, Any]) -> str | None:
    """None when the rule applies to the whole bucket, else a description of its filter."""
    legacy = rule.get("Prefix")
    if legacy:
        return repr(legacy)
    rule_filter = rule.get("Filter") or {}
    if set(rule_filter) <= {"Prefix"} and not rule_filter.get("Prefix"):
        return None
    if set(rule_filter) == {"Prefix"}:
        return repr(rule_filter["Prefix"])
    return f"objects matching {json.dumps(rule_filter, sort_keys=True, default=str)}"


def noncurrent_days(rule: dict[str, Any]) -> int | None:
    days = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
    return int(days) if days is not None else None


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def dangers(rule: dict[str, Any], want_days: int) -> list[str]:
    """How an enabled rule endangers the data, wherever it applies (a prefix may hold state)."""
    if rule.get("Status") != "Enabled":
        return []
    name = f"rule {rule.get('ID') or '(no ID)'!r}"
    where = "" if (rule_scope := scope(rule)) is None else f" under {rule_scope}"
    found = []
    expiration = rule.get("Expiration") or {}
    if "Days" in expiration or "Date" in expiration:
        when = (
            f"after {_days(int(expiration['Days']))}"
            if "Days" in expiration
            else f"on {expiration['Date']}"
        )
        found.append(f"{name} expires current objects{where} {when}")
    days = noncurrent_days(rule)
    if days is not None and days < want_days:
        found.append(
            f"{name} expires non-current versions after {_days(days)}{where}; "
            f"want at least {want_days}"
        )
    for transition in rule.get("Transitions") or []:
        if transition.get("StorageClass") in ARCHIVE_CLASSES:
            found.append(
                f"{name} moves current objects{where} to {transition['StorageClass']}, "
                "where they cannot be read until restored"
            )
    return found
