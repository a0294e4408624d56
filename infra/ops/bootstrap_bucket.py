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
http(s) URL with a host (or that carries credentials), a ``--timeout`` outside 1-300 seconds.

Exit codes: 0 compliant (or created/fixed), 1 non-compliant and not fixed, 2 bad input
(including a bucket in another region), 3 access denied, 4 endpoint unreachable, 5 other
failure. The report goes to stdout (a table, or JSON with ``--json``); progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EXIT_OK: Final = 0
EXIT_NON_COMPLIANT: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_ACCESS_DENIED: Final = 3
EXIT_UNREACHABLE: Final = 4
EXIT_FAILED: Final = 5

LIFECYCLE_RULE_ID: Final = "agent-platform-expire-noncurrent"
MAX_NONCURRENT_DAYS: Final = 3650
ABORT_MULTIPART_DAYS: Final = 7
MAX_TIMEOUT_SECONDS: Final = 300
# Storage classes whose objects cannot be read until restored: state moved there is unusable.
ARCHIVE_CLASSES: Final = frozenset({"GLACIER", "DEEP_ARCHIVE"})

# AWS's rules for general purpose bucket names
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET_NAME: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS_SHAPED: Final = re.compile(r"[0-9]+(\.[0-9]+){3}")
RESERVED_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_ACCESS_DENIED: Final = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled"}
_BAD_CREDENTIALS: Final = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}
_UNSUPPORTED: Final = {"NotImplemented", "501", "XNotImplemented"}
_WRONG_REGION: Final = {"PermanentRedirect", "301", "AuthorizationHeaderMalformed"}

Status = Literal["ok", "missing", "wrong", "unsupported", "created", "fixed", "would-fix"]


class BucketToolError(Exception):
    def __init__(self, code: int, message: str, s3_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.s3_code = s3_code


@dataclass
class Item:
    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Spec:
    bucket: str
    region: str
    noncurrent_days: int


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _explain(error: ClientError, action: str, spec: Spec) -> BucketToolError:
    code = _error_code(error)
    if code in _ACCESS_DENIED:
        return BucketToolError(
            EXIT_ACCESS_DENIED,
            f"access denied to {action} on bucket {spec.bucket!r}; the credentials in use "
            f"need the s3:{action} permission on arn:aws:s3:::{spec.bucket}",
        )
    if code in _BAD_CREDENTIALS:
        return BucketToolError(
            EXIT_ACCESS_DENIED,
            f"the credentials were rejected ({code}); check AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for this endpoint",
        )
    if code in _WRONG_REGION:
        headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        actual = headers.get("x-amz-bucket-region", "another region")
        return BucketToolError(
            EXIT_BAD_INPUT,
            f"bucket {spec.bucket!r} is in {actual}, not {spec.region}; pass --region {actual}",
        )
    return BucketToolError(
        EXIT_FAILED, f"{action} on bucket {spec.bucket!r} failed: {error}", s3_code=code
    )


class BucketTool:
    def __init__(self, client: S3Client, spec: Spec, *, log: Callable[[str], None]) -> None:
        self.client = client
        self.spec = spec
        self.log = log

    def _call(self, action: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return function(Bucket=self.spec.bucket, **kwargs)
        except ClientError as error:
            raise _explain(error, action, self.spec) from error

    # -------------------------------------------------------------------- inspection

    def exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.spec.bucket)
        except ClientError as error:
            if _error_code(error) in {"404", "NoSuchBucket", "NotFound"}:
                return False
            raise _explain(error, "ListBucket", self.spec) from error
        return True

    def check_region(self) -> None:
        location = self._call("GetBucketLocation", self.client.get_bucket_location)
        actual = location.get("LocationConstraint") or "us-east-1"
        actual = "eu-west-1" if actual == "EU" else actual
        if actual != self.spec.region:
            raise BucketToolError(
                EXIT_BAD_INPUT,
                f"bucket {self.spec.bucket!r} is in {actual}, not {self.spec.region}; "
                f"pass --region {actual}",
            )

    def _optional(self, action: str, function: Callable[..., Any], *missing: str) -> Any:
        """Call a Get*; None when the setting is absent, 'unsupported' when not implemented."""
        try:
            return function(Bucket=self.spec.bucket)
        except ClientError as error:
            code = _error_code(error)
            if code in missing:
                return None
            if code in _UNSUPPORTED:
                return "unsupported"
            raise _explain(error, action, self.spec) from error

    def inspect(self) -> list[Item]:
        items: list[Item] = []
        versioning = self._call("GetBucketVersioning", self.client.get_bucket_versioning)
        status = versioning.get("Status")
        items.append(
            Item("versioning", "ok", "Enabled")
            if status == "Enabled"
            else Item("versioning", "wrong", f"is {status or 'never enabled'}, want Enabled")
        )

        encryption = self._optional(
            "GetEncryptionConfiguration",
            self.client.get_bucket_encryption,
            "ServerSideEncryptionConfigurationNotFoundError",
        )
        if encryption == "unsupported":
            items.append(Item("encryption", "unsupported", "the endpoint has no encryption API"))
        elif encryption is None:
            items.append(Item("encryption", "missing", "no default server-side encryption"))
        else:
            rules = encryption["ServerSideEncryptionConfiguration"]["Rules"]
            algorithms = [
                rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
                for rule in rules
            ]
            items.append(Item("encryption", "ok", ", ".join(a for a in algorithms if a)))

        block = self._optional(
            "GetBucketPublicAccessBlock",
            self.client.get_public_access_block,
            "NoSuchPublicAccessBlockConfiguration",
        )
        if block == "unsupported":
            items.append(Item("public-access-block", "unsupported", "the endpoint has no such API"))
        elif block is None:
            items.append(Item("public-access-block", "missing", "no public access block"))
        else:
            settings = block["PublicAccessBlockConfiguration"]
            off = sorted(key for key, value in settings.items() if not value)
            items.append(
                Item("public-access-block", "wrong", f"off: {', '.join(off)}")
                if off
                else Item("public-access-block", "ok", "all four settings on")
            )

        lifecycle = self._optional(
            "GetLifecycleConfiguration",
            self.client.get_bucket_lifecycle_configuration,
            "NoSuchLifecycleConfiguration",
        )
        items.append(self._lifecycle_item(lifecycle))
        return items

    def _lifecycle_item(self, lifecycle: Any) -> Item:
        if lifecycle == "unsupported":
            return Item("lifecycle", "unsupported", "the endpoint has no lifecycle API")
        rules = [rule for rule in (lifecycle or {}).get("Rules", []) if isinstance(rule, dict)]
        if not rules:
            return Item(
                "lifecycle",
                "missing",
                f"no rule expires non-current versions; want {self.spec.noncurrent_days} days",
            )
        problems = [
            *self._our_rule_problems(rules),
            *(problem for rule in rules for problem in _dangers(rule, self.spec.noncurrent_days)),
        ]
        if problems:
            return Item("lifecycle", "wrong", "; ".join(problems))
        return Item(
            "lifecycle",
            "ok",
            f"non-current versions expire after {self.spec.noncurrent_days} days",
        )

    def _our_rule_problems(self, rules: list[dict[str, Any]]) -> list[str]:
        """What keeps the rules from expiring old versions and aborting uploads bucket-wide."""
        want = self.spec.noncurrent_days
        enabled = [rule for rule in rules if rule.get("Status") == "Enabled"]
        whole = [rule for rule in enabled if _scope(rule) is None]
        problems = []
        if not any(_noncurrent_days(rule) == want for rule in whole):
            ours = next((rule for rule in rules if rule.get("ID") == LIFECYCLE_RULE_ID), None)
            if ours is not None and ours.get("Status") == "Enabled" and _scope(ours) is not None:
                problems.append(
                    f"rule {LIFECYCLE_RULE_ID!r} applies only to {_scope(ours)}; "
                    "want the whole bucket"
                )
            days = sorted({d for rule in whole if (d := _noncurrent_days(rule)) is not None})
            problems.append(
                "no enabled rule expires non-current versions of the whole bucket after "
                f"{want} days" + (f" (found {days})" if days else "")
            )
        if not any("AbortIncompleteMultipartUpload" in rule for rule in whole):
            problems.append("no enabled rule for the whole bucket aborts incomplete uploads")
        return problems

    # -------------------------------------------------------------------- changes

    def create(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.spec.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.spec.region}
        self._call("CreateBucket", self.client.create_bucket, **kwargs)

    def fix(self, item: Item) -> None:
        spec = self.spec
        if item.name == "versioning":
            self._call(
                "PutBucketVersioning",
                self.client.put_bucket_versioning,
                VersioningConfiguration={"Status": "Enabled"},
            )
        elif item.name == "encryption":
            self._call(
                "PutEncryptionConfiguration",
                self.client.put_bucket_encryption,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            )
        elif item.name == "public-access-block":
            self._call(
                "PutBucketPublicAccessBlock",
                self.client.put_public_access_block,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        elif item.name == "lifecycle":
            self._call(
                "PutLifecycleConfiguration",
                self.client.put_bucket_lifecycle_configuration,
                LifecycleConfiguration={"Rules": [*self._other_rules(), self._our_rule()]},
            )
        else:  # pragma: no cover (items are made above)
            raise ValueError(item.name)
        self.log(f"{spec.bucket}: set {item.name}")

    def _our_rule(self) -> dict[str, Any]:
        return {
            "ID": LIFECYCLE_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": self.spec.noncurrent_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
        }

    def _other_rules(self) -> list[dict[str, Any]]:
        """Rules someone else wrote stay as they are; only ours (by ID) is replaced."""
        current = self._optional(
            "GetLifecycleConfiguration",
            self.client.get_bucket_lifecycle_configuration,
            "NoSuchLifecycleConfiguration",
        )
        if not isinstance(current, dict):
            return []
        return [rule for rule in current.get("Rules", []) if rule.get("ID") != LIFECYCLE_RULE_ID]

    def foreign_dangers(self) -> dict[str, list[str]]:
        """The dangers in rules this tool did not write (which --fix leaves alone), by rule ID."""
        want = self.spec.noncurrent_days
        found = {
            str(rule.get("ID") or "(no ID)"): _dangers(rule, want) for rule in self._other_rules()
        }
        return {rule_id: dangers for rule_id, dangers in found.items() if dangers}


def _scope(rule: dict[str, Any]) -> str | None:
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


def _noncurrent_days(rule: dict[str, Any]) -> int | None:
    days = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
    return int(days) if days is not None else None


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _dangers(rule: dict[str, Any], want_days: int) -> list[str]:
    """How an enabled rule endangers the data, wherever it applies (a prefix may hold state)."""
    if rule.get("Status") != "Enabled":
        return []
    name = f"rule {rule.get('ID') or '(no ID)'!r}"
    scope = _scope(rule)
    where = "" if scope is None else f" under {scope}"
    dangers = []
    expiration = rule.get("Expiration") or {}
    if "Days" in expiration or "Date" in expiration:
        when = (
            f"after {_days(int(expiration['Days']))}"
            if "Days" in expiration
            else f"on {expiration['Date']}"
        )
        dangers.append(f"{name} expires current objects{where} {when}")
    days = _noncurrent_days(rule)
    if days is not None and days < want_days:
        dangers.append(
            f"{name} expires non-current versions after {_days(days)}{where}; "
            f"want at least {want_days}"
        )
    for transition in rule.get("Transitions") or []:
        if transition.get("StorageClass") in ARCHIVE_CLASSES:
            dangers.append(
                f"{name} moves current objects{where} to {transition['StorageClass']}, "
                "where they cannot be read until restored"
            )
    return dangers


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
                if error.s3_code not in _UNSUPPORTED:
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


def _whole_number(low: int, high: int, unit: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[0-9]{1,6}", value) or not low <= int(value) <= high:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a whole number of {unit} from {low} to {high}"
            )
        return int(value)

    return parse


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
        type=_whole_number(1, MAX_NONCURRENT_DAYS, "days"),
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
        type=_whole_number(1, MAX_TIMEOUT_SECONDS, "seconds"),
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
