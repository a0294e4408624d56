"""bootstrap-bucket against moto's S3 (and a real unreachable endpoint)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from infra.ops import bootstrap_bucket
from infra.ops.bucket_rules import LIFECYCLE_RULE_ID
from infra.ops.bucket_tool import (
    EXIT_ACCESS_DENIED,
    EXIT_BAD_INPUT,
    EXIT_NON_COMPLIANT,
    EXIT_OK,
    EXIT_UNREACHABLE,
)
from infra.ops.s3_names import bucket_name

BUCKET = "agent-platform-state"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = bootstrap_bucket.main([BUCKET, "--json", *args])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out else {}), captured.err


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["status"] for item in report["items"]}


def assert_compliant(s3: Any, days: int = 30) -> None:
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert len(block) == 4
    assert all(block.values())
    [rule] = [
        rule
        for rule in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
        if rule["ID"] == LIFECYCLE_RULE_ID
    ]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == days


def test_creates_a_compliant_bucket(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = run(capsys, "--noncurrent-days", "14")

    assert code == EXIT_OK
    assert report["action"] == "created"
    assert set(statuses(report).values()) == {"created"}
    assert_compliant(s3, days=14)


def test_rerun_changes_nothing(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys)
    before = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]

    code, report, _ = run(capsys)

    assert code == EXIT_OK
    assert report["action"] == "compliant"
    assert set(statuses(report).values()) == {"ok"}
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == before


def test_non_compliant_bucket_is_reported_item_by_item_then_fixed_with_fix(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )

    code, report, err = run(capsys)

    assert code == EXIT_NON_COMPLIANT
    assert report["action"] == "non-compliant"
    assert statuses(report) == {
        "versioning": "wrong",
        "encryption": "missing",
        "public-access-block": "wrong",
        "lifecycle": "missing",
    }
    detail = {item["name"]: item["detail"] for item in report["items"]}
    assert detail["public-access-block"] == "off: BlockPublicPolicy"
    assert "--fix" in err
    assert s3.get_bucket_versioning(Bucket=BUCKET).get("Status") is None

    code, report, _ = run(capsys, "--fix")

    assert code == EXIT_OK
    assert report["action"] == "fixed"
    assert set(statuses(report).values()) == {"fixed"}
    assert_compliant(s3)
    assert run(capsys)[1]["action"] == "compliant"


def test_fix_keeps_lifecycle_rules_that_are_not_ours(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    other = {
        "ID": "logs-to-infrequent-access",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
    }
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [other]})

    assert run(capsys, "--fix")[0] == EXIT_OK

    ids = {rule["ID"] for rule in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert ids == {"logs-to-infrequent-access", LIFECYCLE_RULE_ID}


@pytest.mark.usefixtures("s3")
def test_wrong_noncurrent_days_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--noncurrent-days", "30")

    code, report, _ = run(capsys, "--noncurrent-days", "7")

    assert code == EXIT_NON_COMPLIANT
    assert statuses(report)["lifecycle"] == "wrong"


def test_dry_run_changes_nothing(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = run(capsys, "--dry-run")

    assert code == EXIT_OK
    assert report["action"] == "would-create"
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    s3.create_bucket(Bucket=BUCKET)
    code, report, _ = run(capsys, "--dry-run", "--fix")

    assert code == EXIT_OK
    assert report["action"] == "would-fix"
    assert set(statuses(report).values()) == {"would-fix"}
    assert s3.get_bucket_versioning(Bucket=BUCKET).get("Status") is None


def test_bucket_in_another_region_is_bad_input(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    code, report, err = run(capsys, "--region", "us-east-1")

    assert code == EXIT_BAD_INPUT
    assert report == {}
    assert "is in eu-west-1, not us-east-1; pass --region eu-west-1" in err


@set_initial_no_auth_action_count(3)
@mock_aws
def test_access_denied_names_the_missing_permission(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three unauthenticated calls set up a user who may only list buckets; moto checks every
    # later call against IAM.
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="reader")
    iam.put_user_policy(
        UserName="reader",
        PolicyName="list-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    # boto3's default session keeps the first credentials it resolved; start a new one.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    code, _, err = run(capsys)

    assert code == EXIT_ACCESS_DENIED, err
    assert "access denied" in err
    assert f"arn:aws:s3:::{BUCKET}" in err


@set_initial_no_auth_action_count(0)
@mock_aws
def test_unknown_credentials_are_an_access_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)

    assert code == EXIT_ACCESS_DENIED, err
    assert "credentials were rejected" in err


def test_unreachable_endpoint_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--endpoint-url", "http://127.0.0.1:9", "--timeout", "2")

    assert code == EXIT_UNREACHABLE
    assert "cannot reach the S3 endpoint" in err


@pytest.mark.parametrize(
    "args",
    [
        ("Bad_Bucket",),
        ("ab",),
        (BUCKET, "--noncurrent-days", "0"),
        (BUCKET, "--region", "moon"),
    ],
)
def test_bad_input_is_rejected_before_any_request(
    args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code = bootstrap_bucket.main(["--dry-run", *args])

    assert code == EXIT_BAD_INPUT
    assert "error:" in capsys.readouterr().err


@pytest.mark.usefixtures("s3")
def test_table_output_lists_every_item(capsys: pytest.CaptureFixture[str]) -> None:
    bootstrap_bucket.main([BUCKET])
    table = capsys.readouterr().out

    assert table.splitlines()[0] == f"bucket {BUCKET}: created"
    for name in ("versioning", "encryption", "public-access-block", "lifecycle"):
        assert name in table


# ----------------------------------------------------------- lifecycle that endangers the data
# (issue 13, class 11): a rule that deletes current objects (the Pulumi state itself), expires
# old versions sooner than asked, archives current objects out of reach, or our own rule
# narrowed to a prefix or disabled, makes the bucket non-compliant, whoever wrote the rule.

OUR_RULE: dict[str, Any] = {
    "ID": LIFECYCLE_RULE_ID,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
}


def with_rules(s3: Any, capsys: pytest.CaptureFixture[str], *rules: dict[str, Any]) -> None:
    run(capsys)  # created compliant
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": list(rules)}
    )


def rule(rule_id: str, **fields: Any) -> dict[str, Any]:
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": ""}, **fields}


DANGEROUS = {
    "noncurrent-after-1-day": (
        [OUR_RULE, rule("cheap", NoncurrentVersionExpiration={"NoncurrentDays": 1})],
        "rule 'cheap' expires non-current versions after 1 day",
    ),
    "expires-current-objects": (
        [OUR_RULE, rule("tidy", Expiration={"Days": 90})],
        "rule 'tidy' expires current objects",
    ),
    "expires-current-objects-on-a-date": (
        [OUR_RULE, rule("tidy", Expiration={"Date": "2030-01-01T00:00:00Z"})],
        "rule 'tidy' expires current objects",
    ),
    "expires-current-objects-under-a-prefix": (
        [OUR_RULE, rule("tidy", Filter={"Prefix": ".pulumi/"}, Expiration={"Days": 1})],
        "rule 'tidy' expires current objects under '.pulumi/'",
    ),
    "archives-current-objects": (
        [OUR_RULE, rule("cold", Transitions=[{"Days": 30, "StorageClass": "GLACIER"}])],
        "rule 'cold' moves current objects to GLACIER",
    ),
    "ours-scoped-to-an-unused-prefix": (
        [{**OUR_RULE, "Filter": {"Prefix": "unused/"}}],
        "applies only to 'unused/'",
    ),
    "ours-disabled": (
        [{**OUR_RULE, "Status": "Disabled"}],
        "no enabled rule expires non-current versions of the whole bucket",
    ),
    "ours-without-the-upload-abort": (
        [{k: v for k, v in OUR_RULE.items() if k != "AbortIncompleteMultipartUpload"}],
        "incomplete uploads",
    ),
}


@pytest.mark.parametrize("case", DANGEROUS, ids=str)
def test_dangerous_lifecycle_is_not_compliant(
    s3: Any, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    rules, message = DANGEROUS[case]
    with_rules(s3, capsys, *rules)

    code, report, _ = run(capsys)

    assert code == EXIT_NON_COMPLIANT, report
    assert statuses(report)["lifecycle"] == "wrong"
    detail = {item["name"]: item["detail"] for item in report["items"]}["lifecycle"]
    assert message in detail


@pytest.mark.parametrize(
    "other",
    [
        rule("markers", Expiration={"ExpiredObjectDeleteMarker": True}),
        rule("keep-longer", NoncurrentVersionExpiration={"NoncurrentDays": 365}),
        rule("infrequent", Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"}]),
    ],
    ids=lambda r: r["ID"],
)
def test_harmless_rules_of_others_keep_the_bucket_compliant(
    s3: Any, capsys: pytest.CaptureFixture[str], other: dict[str, Any]
) -> None:
    with_rules(s3, capsys, OUR_RULE, other)

    code, report, _ = run(capsys)

    assert code == EXIT_OK, report
    assert report["action"] == "compliant"


def test_fix_replaces_our_narrowed_rule_with_the_whole_bucket_one(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with_rules(s3, capsys, {**OUR_RULE, "Filter": {"Prefix": "unused/"}})

    code, report, _ = run(capsys, "--fix")

    assert code == EXIT_OK, report
    assert run(capsys)[1]["action"] == "compliant"


def test_fix_never_deletes_a_rule_it_did_not_write(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tidy = rule("tidy", Expiration={"Days": 1})
    with_rules(s3, capsys, OUR_RULE, tidy)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})

    code, report, err = run(capsys, "--fix")

    assert code == EXIT_NON_COMPLIANT, report
    assert statuses(report) == {
        "versioning": "fixed",
        "encryption": "ok",
        "public-access-block": "ok",
        "lifecycle": "wrong",
    }
    assert "remove or change rule 'tidy' yourself" in err
    ids = {r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert ids == {LIFECYCLE_RULE_ID, "tidy"}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"


# ----------------------------------------------------------- bad options (issue 13, class 12)
# and bucket names (class 13): usage errors, exit 2, the option named, before any request.


class NoRequests:
    """A client that fails the test on any request."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a request was made ({name}) despite bad input")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--endpoint-url", "not a url"), "--endpoint-url"),
        (("--endpoint-url", "file:///etc/passwd"), "--endpoint-url"),
        (("--endpoint-url", "ftp://127.0.0.1"), "--endpoint-url"),
        (("--endpoint-url", "http://"), "--endpoint-url"),
        (("--endpoint-url", "http://[::1"), "--endpoint-url"),
        (("--endpoint-url", "http://127.0.0.1:99999"), "--endpoint-url"),
        (("--endpoint-url", "http://key:secret@127.0.0.1:9000"), "--endpoint-url"),
        (("--endpoint-url", ""), "--endpoint-url"),
        (("--timeout", "0"), "--timeout"),
        (("--timeout", "-1"), "--timeout"),
        (("--timeout", "1e9"), "--timeout"),
        (("--timeout", "100000"), "--timeout"),
        (("--noncurrent-days", "0"), "--noncurrent-days"),
        (("--noncurrent-days", "x"), "--noncurrent-days"),
        (("--timeout", "010"), "--timeout"),
        (("--timeout", "08"), "--timeout"),
        (("--timeout", " 7"), "--timeout"),
        (("--timeout", "+7"), "--timeout"),
        (("--timeout", "1_0"), "--timeout"),
        (("--timeout", "\u0663"), "--timeout"),
        (("--noncurrent-days", "010"), "--noncurrent-days"),
        (("--noncurrent-days", "+30"), "--noncurrent-days"),
        (("--region", "moon"), "--region"),
        (("--region", ""), "--region"),
    ],
    ids=lambda value: value if isinstance(value, str) else "=".join(value),
)
def test_bad_options_are_usage_errors_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], named: str
) -> None:
    code = bootstrap_bucket.main([BUCKET, *args], client=NoRequests())  # type: ignore[arg-type]

    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "usage:" in err
    assert f"argument {named}:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "name",
    [
        "192.168.5.4",  # formatted as an IP address
        "10.0.0.1",
        "sthree-state",
        "sthree-configurator-x",
        "amzn-s3-demo-bucket",
        "xn--state",
        "state-s3alias",
        "state--ol-s3",
        "state.mrap",
        "state--usw2-az1--x-s3",
        "state--table-s3",
        "my..bucket",
        "ab",
        "a" * 64,
        "Bad_Bucket",
        "-state",
        "state-",
        "state.",
    ],
)
def test_bucket_names_aws_rejects_are_rejected(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code = bootstrap_bucket.main(["--", name], client=NoRequests())  # type: ignore[arg-type]

    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "argument BUCKET:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("name", ["abc", "a" * 63, "agent-platform.state", "state-1.example"])
def test_valid_bucket_names_are_accepted(name: str) -> None:
    assert bucket_name(name) == name


def test_a_usable_endpoint_and_timeout_reach_the_client(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "--endpoint-url", "http://127.0.0.1:9/", "--timeout", "1")

    assert code == EXIT_UNREACHABLE, err
