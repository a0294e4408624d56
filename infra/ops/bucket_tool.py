"""The S3 calls of bootstrap-bucket: inspect a bucket's settings, create it, fix one setting.

Owns the client side: which API reads or writes each setting, what an S3 error code means for
the operator (access denied, bad credentials, wrong region, an API the endpoint lacks) and the
exit code it maps to. What makes a lifecycle rule safe is judged in ``bucket_rules``; the order
of the steps and the report are the CLI's (``bootstrap_bucket``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from botocore.exceptions import ClientError

from infra.ops.bucket_rules import LIFECYCLE_RULE_ID, dangers, lifecycle_problems, our_rule

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EXIT_OK: Final = 0
EXIT_NON_COMPLIANT: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_ACCESS_DENIED: Final = 3
EXIT_UNREACHABLE: Final = 4
EXIT_FAILED: Final = 5

_ACCESS_DENIED: Final = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled"}
_BAD_CREDENTIALS: Final = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}
UNSUPPORTED: Final = {"NotImplemented", "501", "XNotImplemented"}
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


def _absent(name: str, found: Any, unsupported: str, missing: str) -> Item | None:
    """The item for a setting the endpoint has no API for, or the bucket does not have."""
    if found == "unsupported":
        return Item(name, "unsupported", unsupported)
    if found is None:
        return Item(name, "missing", missing)
    return None


def _encryption_item(encryption: dict[str, Any]) -> Item:
    rules = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    algorithms = [
        rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for rule in rules
    ]
    return Item("encryption", "ok", ", ".join(a for a in algorithms if a))


def _public_access_item(block: dict[str, Any]) -> Item:
    settings = block["PublicAccessBlockConfiguration"]
    off = sorted(key for key, value in settings.items() if not value)
    if off:
        return Item("public-access-block", "wrong", f"off: {', '.join(off)}")
    return Item("public-access-block", "ok", "all four settings on")


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
            if code in UNSUPPORTED:
                return "unsupported"
            raise _explain(error, action, self.spec) from error

    def _lifecycle(self) -> Any:
        return self._optional(
            "GetLifecycleConfiguration",
            self.client.get_bucket_lifecycle_configuration,
            "NoSuchLifecycleConfiguration",
        )

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
        items.append(
            _absent(
                "encryption",
                encryption,
                "the endpoint has no encryption API",
                "no default server-side encryption",
            )
            or _encryption_item(encryption)
        )

        block = self._optional(
            "GetBucketPublicAccessBlock",
            self.client.get_public_access_block,
            "NoSuchPublicAccessBlockConfiguration",
        )
        items.append(
            _absent(
                "public-access-block",
                block,
                "the endpoint has no such API",
                "no public access block",
            )
            or _public_access_item(block)
        )

        items.append(self._lifecycle_item(self._lifecycle()))
        return items

    def _lifecycle_item(self, lifecycle: Any) -> Item:
        if lifecycle == "unsupported":
            return Item("lifecycle", "unsupported", "the endpoint has no lifecycle API")
        want = self.spec.noncurrent_days
        rules = [rule for rule in (lifecycle or {}).get("Rules", []) if isinstance(rule, dict)]
        if not rules:
            return Item(
                "lifecycle",
                "missing",
                f"no rule expires non-current versions; want {want} days",
            )
        if problems := lifecycle_problems(rules, want):
            return Item("lifecycle", "wrong", "; ".join(problems))
        return Item("lifecycle", "ok", f"non-current versions expire after {want} days")

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
                LifecycleConfiguration={
                    "Rules": [*self._other_rules(), our_rule(spec.noncurrent_days)]
                },
            )
        else:  # pragma: no cover (items are made above)
            raise ValueError(item.name)
        self.log(f"{spec.bucket}: set {item.name}")

    def _other_rules(self) -> list[dict[str, Any]]:
        """Rules someone else wrote stay as they are; only ours (by ID) is replaced."""
        current = self._lifecycle()
        if not isinstance(current, dict):
            return []
        return [rule for rule in current.get("Rules", []) if rule.get("ID") != LIFECYCLE_RULE_ID]

    def foreign_dangers(self) -> dict[str, list[str]]:
        """The dangers in rules this tool did not write (which --fix leaves alone), by rule ID."""
        want = self.spec.noncurrent_days
        found = {
            str(rule.get("ID") or "(no ID)"): dangers(rule, want) for rule in self._other_rules()
        }
        return {rule_id: found_dangers for rule_id, found_dangers in found.items() if found_dangers}
