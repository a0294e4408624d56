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
from infra.ops.bootstrap_bucket import (
    EXIT_ACCESS_DENIED,
    EXIT_BAD_INPUT,
    EXIT_NON_COMPLIANT,
    EXIT_OK,
    EXIT_UNREACHABLE,
    LIFECYCLE_RULE_ID,
)

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
        "ID": "expire-tmp",
        "Status": "Enabled",
        "Filter": {"Prefix": "tmp/"},
        "Expiration": {"Days": 1},
    }
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [other]})

    run(capsys, "--fix")

    ids = {rule["ID"] for rule in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert ids == {"expire-tmp", LIFECYCLE_RULE_ID}


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
