"""bootstrap-bucket: create or verify an S3-compatible bucket for Pulumi state or snapshots.

A compliant bucket has: versioning on, default server-side encryption, every public access
block setting on, and a lifecycle rule for the whole bucket that expires non-current versions
after N days and aborts incomplete multipart uploads. No enabled lifecycle rule, whoever wrote
it and whatever prefix it covers, may endanger the data: expire current objects (a versioned
bucket turns them into old versions, which then expire: the Pulumi state itself), expire
non-current versions sooner than N days, or move current objects to an archive storage class
that must be restored before it can be read (GLACIER, DEEP_ARCHIVE). The tool is idempotent:

- no bucket: create it compliant (``--dry-run`` only says what it would do);
- a compliant bucket: report "compliant", change nothing;
- a non-compliant bucket: report each item; change it only with ``--fix``. ``--fix`` writes only
  its own lifecycle rule (by ID); a rule someone else wrote is never changed or deleted, so a
  dangerous one stays reported (exit 1) until its owner removes it.

Works against AWS or any S3-compatible endpoint (``--endpoint-url``, e.g. MinIO). Settings an
endpoint does not implement (MinIO has no public access block API) are reported as
"unsupported" rather than failing the run.

Bad options are usage errors (exit 2, the option named): a bucket name AWS would refuse (its
rules: 3-63 of a-z, 0-9, '.', '-', a letter or digit at each end, no '..', not shaped like an
IP address, none of the reserved prefixes and suffixes), an ``--endpoint-url`` that is not an
http(s) URL with a host (or that carries credentials), a ``--timeout`` outside 1-300 seconds or
a ``--noncurrent-days`` outside 1-3650 (plain decimal, no leading zero: ``010`` is refused).

Exit codes: 0 compliant (or created/fixed), 1 non-compliant and not fixed, 2 bad input
(including a bucket in another region), 3 access denied, 4 endpoint unreachable, 5 other
failure. The report goes to stdout (a table, or JSON with ``--json``); progress to stderr.

This module is the CLI: options, the order of the steps (create, inspect, fix) and the report.
The S3 calls are in ``bucket_tool``, the lifecycle judgement in ``bucket_rules``, the input rules
(bucket, region, endpoint) in ``s3_names``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Final, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from infra.cli import whole_number
from infra.ops.bucket_tool import (
    EXIT_ACCESS_DENIED,
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_NON_COMPLIANT,
    EXIT_OK,
    EXIT_UNREACHABLE,
    UNSUPPORTED,
    BucketTool,
    BucketToolError,
    Item,
    Spec,
)
from infra.ops.s3_names import bucket_name, endpoint_url, region_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_NONCURRENT_DAYS: Final = 3650
MAX_TIMEOUT_SECONDS: Final = 300


@dataclass
class Report:
    bucket: str
    action: Literal["created", "would-create", "compliant", "non-compliant", "fixed", "would-fix"]
    items: list[Item]


def _fix(tool: BucketTool, broken: list[Item], *, dry_run: bool) -> list[Item]:
    """Fix (or say it would fix) each broken item; returns those --fix may not fix."""
    unfixable = []
    for item in broken:
        if item.name == "lifecycle" and (foreign := tool.foreign_dangers()):
            # Ours could be rewritten, but a rule someone else wrote is theirs to change.
            item.detail = "; ".join(danger for dangers in foreign.values() for danger in dangers)
            unfixable.append(item)
            for rule_id in foreign:
                tool.log(
                    f"remove or change rule {rule_id!r} yourself: --fix does not change "
                    "lifecycle rules it did not write"
                )
            continue
        if dry_run:
            item.status = "would-fix"
        else:
            tool.fix(item)
            item.status = "fixed"
    return unfixable


def run(tool: BucketTool, *, fix: bool, dry_run: bool) -> tuple[int, Report]:
    spec = tool.spec
    if not tool.exists():
        names = ["versioning", "encryption", "public-access-block", "lifecycle"]
        if dry_run:
            items = [Item(name, "would-fix", "would be set on the new bucket") for name in names]
            return EXIT_OK, Report(spec.bucket, "would-create", items)
        tool.log(f"{spec.bucket}: creating in {spec.region}")
        tool.create()
        items = []
        for name in names:
            item = Item(name, "created", "set on the new bucket")
            try:
                tool.fix(item)
            except BucketToolError as error:
                if error.s3_code not in UNSUPPORTED:
                    raise
                item = Item(name, "unsupported", "the endpoint has no such API")
            items.append(item)
        return EXIT_OK, Report(spec.bucket, "created", items)

    tool.check_region()
    items = tool.inspect()
    broken = [item for item in items if item.status in ("missing", "wrong")]
    if not broken:
        return EXIT_OK, Report(spec.bucket, "compliant", items)
    if not fix:
        return EXIT_NON_COMPLIANT, Report(spec.bucket, "non-compliant", items)
    unfixable = _fix(tool, broken, dry_run=dry_run)
    if unfixable:
        return EXIT_NON_COMPLIANT, Report(spec.bucket, "non-compliant", items)
    return EXIT_OK, Report(spec.bucket, "would-fix" if dry_run else "fixed", items)


def format_table(report: Report) -> str:
    lines = [f"bucket {report.bucket}: {report.action}"]
    width = max(len(item.name) for item in report.items)
    lines += [f"  {item.name:<{width}}  {item.status:<11}  {item.detail}" for item in report.items]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bootstrap-bucket",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Example: scripts/bootstrap-bucket agent-platform-state --region eu-west-1 --fix",
    )
    parser.add_argument(
        "bucket",
        metavar="BUCKET",
        type=bucket_name,
        help="bucket name (3-63 characters: a-z, 0-9, '.', '-'; AWS's naming rules)",
    )
    parser.add_argument(
        "--region", type=region_name, default="us-east-1", help="bucket region (us-east-1)"
    )
    parser.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        help="an S3-compatible endpoint, e.g. http://minio:9000",
    )
    parser.add_argument(
        "--noncurrent-days",
        type=whole_number(1, MAX_NONCURRENT_DAYS, "days"),
        default=30,
        help="expire non-current object versions after this many days (30)",
    )
    parser.add_argument("--fix", action="store_true", help="fix a non-compliant bucket")
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would change; change nothing"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--timeout",
        type=whole_number(1, MAX_TIMEOUT_SECONDS, "seconds"),
        default=10,
        help=f"seconds to connect or read per request, 1-{MAX_TIMEOUT_SECONDS} (10)",
    )
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(f"bootstrap-bucket: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, client: S3Client | None = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as stop:  # a usage error (2), or --help (0)
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    log = _log

    if client is None:
        client = boto3.client(
            "s3",
            region_name=args.region,
            endpoint_url=args.endpoint_url,
            config=Config(
                connect_timeout=args.timeout,
                read_timeout=args.timeout,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )
    tool = BucketTool(client, Spec(args.bucket, args.region, args.noncurrent_days), log=log)
    try:
        code, report = run(tool, fix=args.fix, dry_run=args.dry_run)
    except BucketToolError as error:
        log(f"error: {error}")
        return error.code
    except EndpointConnectionError as error:
        log(f"error: cannot reach the S3 endpoint ({error}); check --endpoint-url and network")
        return EXIT_UNREACHABLE
    except NoCredentialsError:
        log("error: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/SECRET")
        return EXIT_ACCESS_DENIED
    except (BotoCoreError, ClientError) as error:
        log(f"error: {error}")
        return EXIT_FAILED

    if args.json:
        print(json.dumps({**asdict(report), "exitCode": code}, indent=2))
    else:
        print(format_table(report))
    if code == EXIT_NON_COMPLIANT:
        log("the bucket is not compliant; run again with --fix to fix the items above")
    return code


if __name__ == "__main__":
    sys.exit(main())
