"""Each check of this tier fails on a deliberate fault, against the same real API server.

The faulty objects live in namespaces of their own (``fault-*``) on the studio control plane,
away from the stack's objects.
"""

from __future__ import annotations

import copy
from typing import Any, Final

import pytest

from tests.counterparts.apply import (
    PATCH_FORCE,
    apply,
    apply_in_order,
    changes_of_second_apply,
    key_of,
    restricted_violations,
    wait_for_pods,
)
from tests.counterparts.changes import (
    Options,
    Rendered,
    carry_out,
    scaled_down_below_the_autoscaler,
)
from tests.counterparts.conftest import KUBERNETES_MINOR
from tests.counterparts.control_plane import ControlPlane, Kubectl

RESTRICTED: Final = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": KUBERNETES_MINOR,
    "pod-security.kubernetes.io/warn": "restricted",
}


def namespace(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}},
    }


def privileged_deployment(namespace_name: str) -> dict[str, Any]:
    labels = {"app": "privileged"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "privileged", "namespace": namespace_name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example/app:1.0.0",
                            "securityContext": {"privileged": True},
                        }
                    ]
                },
            },
        },
    }


@pytest.fixture(scope="module")
def kubectl(planes: dict[str, ControlPlane]) -> Kubectl:
    return planes["studio"].kubectl


@pytest.fixture(scope="module")
def restricted_namespace(kubectl: Kubectl) -> str:
    results = apply_in_order(kubectl, [namespace("fault-restricted", RESTRICTED)])
    assert all(result.clean for result in results), [r.report() for r in results]
    return "fault-restricted"


def test_the_apply_check_fails_on_a_pod_security_warning_and_shows_it(
    kubectl: Kubectl, restricted_namespace: str
) -> None:
    result = apply(kubectl, [privileged_deployment(restricted_namespace)], dry_run=True)

    assert not result.clean
    assert result.returncode == 0  # a Deployment is accepted; only its Pods would be refused
    # The namespace warns at "latest" (like the platform's: enforce is pinned, warn looks ahead).
    assert any(
        'would violate PodSecurity "restricted:latest"' in w and "privileged" in w
        for w in result.warnings
    ), result.messages


def test_the_pods_check_fails_when_pod_security_refuses_the_pods(
    kubectl: Kubectl, restricted_namespace: str
) -> None:
    deployment = privileged_deployment(restricted_namespace)
    apply(kubectl, [deployment], dry_run=False)

    pods, events = wait_for_pods(kubectl, [deployment], timeout=5)

    assert pods[key_of(deployment)].pods == ()
    assert any("FailedCreate" in e and "violates PodSecurity" in e for e in events), events


def test_the_restricted_check_fails_on_a_pod_that_violates_restricted(kubectl: Kubectl) -> None:
    apply_in_order(kubectl, [namespace("fault-privileged")])
    deployment = privileged_deployment("fault-privileged")
    apply(kubectl, [deployment], dry_run=False)
    pods, _ = wait_for_pods(kubectl, [deployment], timeout=30)
    assert len(pods[key_of(deployment)].pods) == 1  # no Pod Security here: it was admitted
    # Enforced afterwards, like the platform's namespace: the Pod that is already there stays.
    kubectl.run(
        "label", "namespace", "fault-privileged", "--overwrite",
        *(f"{label}={value}" for label, value in RESTRICTED.items()),
    )  # fmt: skip

    violations = restricted_violations(kubectl, "fault-privileged")

    assert any("privileged" in v for v in violations), violations


def test_the_apply_check_fails_on_a_deprecation_warning(kubectl: Kubectl) -> None:
    apply_in_order(kubectl, [namespace("fault-deprecated")])
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "legacy", "namespace": "fault-deprecated"},
        "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}],
    }

    result = apply(kubectl, [endpoints], dry_run=True)

    assert not result.clean
    assert any("Endpoints is deprecated" in w for w in result.warnings), result.messages


def test_the_apply_check_fails_on_what_only_the_server_validates(
    kubectl: Kubectl, restricted_namespace: str
) -> None:
    deployment = privileged_deployment(restricted_namespace)
    deployment["metadata"]["name"] = "mismatched"
    deployment["spec"]["selector"]["matchLabels"] = {"app": "something-else"}

    result = apply(kubectl, [deployment], dry_run=True)

    assert result.returncode != 0
    assert any("selector` does not match template `labels`" in e for e in result.errors), (
        result.errors
    )


def test_the_second_apply_check_sees_a_change(kubectl: Kubectl) -> None:
    apply_in_order(kubectl, [namespace("fault-second-apply")])
    config_map: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "fault-second-apply"},
        "data": {"value": "1"},
    }
    assert apply(kubectl, [config_map], dry_run=False).clean
    changed = copy.deepcopy(config_map)
    changed["data"]["value"] = "2"

    diff, changes = changes_of_second_apply(kubectl, [changed])

    assert diff.returncode == 1
    assert list(changes) == [key_of(config_map)]


def test_the_change_check_fails_on_an_immutable_field_the_program_does_not_replace(
    kubectl: Kubectl,
) -> None:
    apply_in_order(kubectl, [namespace("fault-immutable")])
    claim: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "fault-immutable"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    bigger = copy.deepcopy(claim)
    bigger["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert apply(kubectl, [claim], dry_run=False).clean

    not_replaced = carry_out(kubectl, Rendered([claim], {}), Rendered([bigger], {}))
    replaced = carry_out(
        kubectl,
        Rendered([claim], {}),
        Rendered([bigger], {key_of(bigger): Options(("spec.resources.requests.storage",))}),
    )

    assert len(not_replaced.problems) == 1
    assert "does not replace it" in not_replaced.problems[0]
    assert "spec.resources.requests.storage" in not_replaced.problems[0]
    assert replaced.problems == []
    assert replaced.replaced == [key_of(claim)]


def test_the_change_check_fails_on_a_field_another_manager_owns(kubectl: Kubectl) -> None:
    apply_in_order(kubectl, [namespace("fault-conflict")])
    config_map: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shared", "namespace": "fault-conflict"},
        "data": {"value": "ours"},
    }
    assert apply(kubectl, [config_map], dry_run=False).clean
    kubectl.run(
        "patch", "configmap", "shared", "--namespace=fault-conflict",
        "--field-manager=someone-else", "--type=merge", "--patch", '{"data":{"value":"theirs"}}',
    )  # fmt: skip
    ours_again = copy.deepcopy(config_map)
    ours_again["data"]["value"] = "ours-again"
    forced = copy.deepcopy(ours_again)
    forced["metadata"]["annotations"] = {PATCH_FORCE: "true"}

    outcome = carry_out(kubectl, Rendered([config_map], {}), Rendered([ours_again], {}))
    with_force = carry_out(kubectl, Rendered([config_map], {}), Rendered([forced], {}))

    assert len(outcome.problems) == 1
    assert 'conflict with "someone-else"' in outcome.problems[0]
    assert with_force.problems == []
    assert with_force.written[key_of(forced)]["data"] == {"value": "ours-again"}


def test_the_change_check_fails_when_an_update_drops_replicas_below_the_autoscaler(
    kubectl: Kubectl,
) -> None:
    apply_in_order(kubectl, [namespace("fault-scale-down")])
    fixed = privileged_deployment("fault-scale-down")
    fixed["spec"]["replicas"] = 3
    assert apply(kubectl, [fixed], dry_run=False).clean
    left_to_autoscaler = copy.deepcopy(fixed)
    del left_to_autoscaler["spec"]["replicas"]  # what the program used to do
    autoscaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "privileged", "namespace": "fault-scale-down"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "privileged"},
            "minReplicas": 2,
            "maxReplicas": 4,
        },
    }
    target = Rendered([left_to_autoscaler, autoscaler], {})

    outcome = carry_out(kubectl, Rendered([fixed], {}), target)

    assert outcome.problems == []  # the API server accepts it ...
    assert scaled_down_below_the_autoscaler(outcome, target) == {  # ... and drops to one Pod
        "Deployment fault-scale-down/privileged": "3 -> 1 replicas (autoscaler minimum 2)"
    }
