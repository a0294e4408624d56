"""Each stack's rendered manifests against a real Kubernetes 1.34 API server.

What kubernetes-validate cannot see: defaulting, cross-field validation, RBAC, Pod Security
admission from the namespace's labels, and server-side apply itself (field ownership, no-op
applies). With kube-controller-manager running, every workload's Pods are created by the real
controllers and admitted (or not) by the real Pod Security admission; they stay Pending, as
there are no nodes.
"""

from __future__ import annotations

import base64

import pytest

from tests.counterparts.apply import describe, key_of, live, secret_test_value
from tests.counterparts.conftest import KUBERNETES_MINOR, STACKS, Deployments


@pytest.mark.parametrize("stack", STACKS)
def test_server_side_apply_dry_run_then_apply_has_no_errors_or_warnings(
    stack: str, deployments: Deployments
) -> None:
    deployment = deployments[stack]

    assert [result.dry_run for result in deployment.applies] == [True, False, True, False]
    problems = [result.report() for result in deployment.applies if not result.clean]
    assert problems == [], "\n\n".join(problems)
    on_server = live(deployment.plane.kubectl, deployment.manifests)
    assert sorted(on_server) == sorted(key_of(d) for d in deployment.manifests)


@pytest.mark.parametrize("stack", STACKS)
def test_a_second_apply_changes_nothing(stack: str, deployments: Deployments) -> None:
    deployment = deployments[stack]
    assert deployment.applied_cleanly, "the first apply failed (see the test above)"
    assert deployment.diff is not None

    assert deployment.diff.returncode == 0, deployment.diff.stdout + deployment.diff.stderr
    assert {
        describe(key): change for key, change in deployment.changed_by_second_apply.items()
    } == {}


@pytest.mark.parametrize("stack", STACKS)
def test_every_workload_gets_its_pods_admitted_by_pod_security_restricted(
    stack: str, deployments: Deployments
) -> None:
    deployment = deployments[stack]
    assert deployment.applied_cleanly, "the first apply failed (see the test above)"

    short = {
        describe(key): f"{len(w.pods)} of {w.expected} pods"
        for key, w in deployment.pods.items()
        if len(w.pods) < w.expected
    }
    assert short == {}, "\n".join(deployment.pod_events)
    assert {key[2] for key in deployment.pods} >= {"gateway", "embedding", "mcp", "vector-search"}
    assert deployment.restricted_violations == {ns: [] for ns in deployment.restricted_violations}
    platform = deployment.plane.kubectl.json("get", "namespace", "agent-platform")
    labels = platform["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == KUBERNETES_MINOR


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_applied_with_the_tiers_test_values(
    stack: str, deployments: Deployments
) -> None:
    deployment = deployments[stack]
    secrets = [d for d in deployment.manifests if d["kind"] == "Secret"]
    assert secrets, "the stack renders no Secret"

    on_server = live(deployment.plane.kubectl, secrets)
    decoded = {
        key[2]: {item: base64.b64decode(value).decode() for item, value in s["data"].items()}
        for key, s in on_server.items()
    }
    assert decoded == {
        s["metadata"]["name"]: {
            item: secret_test_value(s["metadata"]["name"], item, s.get("type"))
            for item in s["stringData"]
        }
        for s in secrets
    }
