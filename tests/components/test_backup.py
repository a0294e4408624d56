"""The vector search backup (vectorSearch.backup) under mocks: the CronJob, its pod's security,
where the API key comes from, the network flows, and what is refused. The job's program itself
is tested against a Qdrant stand-in (tests/jobs); the real API server and engine take these
objects in tests/engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.jobs import qdrant_snapshots
from infra.offline.mock_engine import ProgramRun
from tests.conftest import KNOWN_SECRETS, Deploy
from tests.policy.checks import restricted_violations


def cron_job(run: ProgramRun) -> dict[str, Any]:
    spec: dict[str, Any] = run.one("kubernetes:batch/v1:CronJob", "vector-search-backup").inputs[
        "spec"
    ]
    return spec


def test_homelab_takes_daily_snapshots_and_studio_none(deploy: Deploy) -> None:
    spec = cron_job(deploy("homelab"))

    assert spec["schedule"] == "17 3 * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] == 3
    assert spec["failedJobsHistoryLimit"] == 3
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 3600
    assert deploy("studio").of_type("kubernetes:batch/v1:CronJob") == []


def test_the_job_runs_the_repositorys_program_with_the_key_from_its_secret(deploy: Deploy) -> None:
    run = deploy(
        "homelab", {"vectorSearch.backup": {"retention": 4, "collections": ["agent-memory"]}}
    )
    pod = cron_job(run)["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item for item in container["env"]}

    program = run.one("kubernetes:core/v1:ConfigMap", "vector-search-backup-program")
    assert program.inputs["data"] == {
        "qdrant_snapshots.py": open(qdrant_snapshots.__file__).read()  # noqa: SIM115
    }
    assert container["command"] == ["python", "-I", "/job/qdrant_snapshots.py"]
    assert env["QDRANT_API_KEY"] == {
        "name": "QDRANT_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "vector-search-api-key", "key": "api-key"}},
    }
    assert (
        env["QDRANT_URL"]["value"] == "http://vector-search.agent-platform.svc.cluster.local:6333"
    )
    assert env["RETENTION"]["value"] == "4"
    assert env["COLLECTIONS"]["value"] == "agent-memory"
    assert restricted_violations(pod) == []
    assert pod["automountServiceAccountToken"] is False


def test_no_secret_reaches_the_jobs_config_map_or_plain_env(deploy: Deploy) -> None:
    run = deploy("homelab")
    text = json.dumps(
        [r.inputs for r in run.registrations if r.type in (
            "kubernetes:core/v1:ConfigMap", "kubernetes:batch/v1:CronJob")]
    )  # fmt: skip

    for secret in KNOWN_SECRETS.values():
        assert secret not in text


def test_the_job_reaches_only_the_vector_search_http_port_and_dns(deploy: Deploy) -> None:
    run = deploy("homelab")
    policy = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "vector-search-backup-netpol")
    spec = policy.inputs["spec"]

    assert (
        spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "vector-search-backup"
    )
    assert "ingress" not in spec, "no rule: nothing may reach the job's pods"
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    destinations = [
        (rule["to"][0].get("podSelector", {}).get("matchLabels", {}).get("k8s-app")
         or rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"],
         sorted(p["port"] for p in rule["ports"]))
        for rule in spec["egress"]
    ]  # fmt: skip
    assert destinations == [("kube-dns", [53, 53]), ("vector-search", [6333])]
    search = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "vector-search-netpol")
    admitted = [
        (rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"],
         sorted(p["port"] for p in rule["ports"]))
        for rule in search.inputs["spec"]["ingress"]
        if "from" in rule and "podSelector" in rule["from"][0]
    ]  # fmt: skip
    assert ("vector-search-backup", [6333]) in admitted


@pytest.mark.parametrize(
    ("backup", "key"),
    [
        ({"schedule": "0 25 * * *"}, "vectorSearch.backup.schedule"),
        ({"schedule": "0 3 * * 7"}, "vectorSearch.backup.schedule"),  # Kubernetes: 0-6
        ({"schedule": "0 5-3 * * *"}, "vectorSearch.backup.schedule"),  # a range runs upwards
        ({"schedule": "@daily"}, "vectorSearch.backup.schedule"),
        ({"schedule": "0 3 * *"}, "vectorSearch.backup.schedule"),
        ({"retention": 0}, "vectorSearch.backup.retention"),
        ({"collections": ["../x"]}, "vectorSearch.backup.collections"),
        ({"image": "python"}, "vectorSearch.backup.image"),
        ({"deadlineSeconds": 10}, "vectorSearch.backup.deadlineSeconds"),
    ],
)
def test_hostile_backup_settings_are_refused_by_key(
    deploy: Deploy, backup: dict[str, Any], key: str
) -> None:
    run = deploy("homelab", {"vectorSearch.backup": backup}, check=False)

    assert run.registrations == []
    assert any(p.startswith(f"agent-platform:{key}") for p in run.error.problems), run.error  # type: ignore[union-attr]
