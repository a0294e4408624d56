"""What `pulumi up` does to a running platform when a setting changes (the second day), what
`destroy` leaves, and what an interrupted `up` leaves: the real engine deciding between update
and replace, and the provider waiting for the result, on a real control plane with nodes.

The studio cases share one deployment (a namespace of its own), each changing one setting and
putting it back; the README's table "What `pulumi up` does when you change X" is these tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import pytest

from infra.ops.engine import EngineProject, destroy, preview, up
from infra.ops.engine_protocol import OperationResult
from tests.counterparts.control_plane import ControlPlane
from tests.engine.conftest import stack_config
from tests.engine.test_existing_target import existing_overrides, existing_secrets

NAMESPACE: Final = "day2-studio"
NEW_IMAGE: Final = "nginxinc/nginx-unprivileged:1.28.1-alpine"


class Deployed:
    """The studio stack on the control plane, and what the tests read of it."""

    def __init__(self, project: EngineProject, plane: ControlPlane, overrides: dict[str, Any]):
        self.project = project
        self.plane = plane
        self.overrides = overrides

    def change(self, **overrides: Any) -> list[OperationResult]:
        """Preview and `up` the stack with ``overrides`` on top of the base settings."""
        self.project.configure(stack_config("studio", {**self.overrides, **overrides}))
        return self.project.run(preview(), up())

    def restore(self) -> None:
        self.project.configure(stack_config("studio", self.overrides))
        (result,) = self.project.run(up())
        assert result.ok, result.error

    def pods(self, component: str, namespace: str = NAMESPACE) -> dict[str, dict[str, Any]]:
        listed = self.plane.kubectl.json(
            "get", "pods", "-n", namespace, "-l", f"app.kubernetes.io/component={component}"
        )
        return {
            pod["metadata"]["name"]: pod
            for pod in listed["items"]
            if not pod["metadata"].get("deletionTimestamp")
        }

    def live(self, kind: str, name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
        found: dict[str, Any] = self.plane.kubectl.json("get", kind, name, "-n", namespace)
        return found


@pytest.fixture(scope="module")
def deployed(
    toolchain: Path, control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Deployed:
    overrides = {**existing_overrides("studio"), "namespace": NAMESPACE}
    project = EngineProject.create(
        tmp_path_factory.mktemp("day2") / "engine", toolchain, "studio",
        stack_config("studio", overrides), existing_secrets("studio", control_plane),
    )  # fmt: skip
    applied, again = project.run(up(), up(expect_no_changes=True))
    assert applied.ok, applied.error
    assert again.ok, again.error
    return Deployed(project, control_plane, overrides)


def planned(result: OperationResult, name: str, type_suffix: str) -> str:
    return result.op(name, type_suffix)


def test_a_second_up_changes_nothing(deployed: Deployed) -> None:
    (again,) = deployed.project.run(up(expect_no_changes=True))

    assert again.ok, again.error
    assert again.changed() == {}


def test_replicas_update_the_deployment_in_place_and_keep_the_running_pods(
    deployed: Deployed,
) -> None:
    before = set(deployed.pods("gateway"))
    assert before, "a running gateway pod to compare with"

    plan, applied = deployed.change(**{"gateway.replicas": 2})

    assert planned(plan, "gateway", ":Deployment") == "update"
    assert applied.ok, applied.error
    after = deployed.pods("gateway")
    assert len(after) == 2
    assert before < set(after), "the running pod stays"
    assert deployed.live("deployment", "gateway")["status"]["availableReplicas"] == 2
    deployed.restore()


def test_an_image_updates_the_deployment_and_rolls_its_pods(deployed: Deployed) -> None:
    before = set(deployed.pods("gateway"))
    assert before, "a running gateway pod to compare with"

    plan, applied = deployed.change(**{"gateway.image": NEW_IMAGE})

    assert planned(plan, "gateway", ":Deployment") == "update"
    assert applied.ok, applied.error
    after = deployed.pods("gateway")
    assert before.isdisjoint(after), "every pod was replaced"
    assert {pod["spec"]["containers"][0]["image"] for pod in after.values()} == {NEW_IMAGE}
    deployed.restore()


def test_a_new_gateway_token_updates_its_secret_and_rolls_the_gateway(
    deployed: Deployed,
) -> None:
    before = set(deployed.pods("gateway"))
    assert before, "a running gateway pod to compare with"
    old = deployed.live("secret", "gateway-config")["metadata"]["uid"]
    deployed.project.cli(
        "config", "set", "--secret", "agent-platform:gatewayToken",
        stdin="rotated-token-SENTINEL-3c8d1e",
    )  # fmt: skip

    plan, applied = deployed.project.run(preview(), up())

    assert planned(plan, "gateway-config", ":Secret") == "update"
    assert planned(plan, "gateway", ":Deployment") == "update"
    assert applied.ok, applied.error
    assert deployed.live("secret", "gateway-config")["metadata"]["uid"] == old, "in place"
    assert before.isdisjoint(deployed.pods("gateway")), "the gateway pods rolled"
    assert set(deployed.pods("mcp")), "others untouched"


def test_a_new_storage_size_replaces_the_claim_and_its_statefulset_on_studio(
    deployed: Deployed,
) -> None:
    """kind's local-path volumes cannot grow in place, so a new size is a new claim: the
    engine deletes the StatefulSet and the claim, then creates both (studio's data is gone;
    homelab's claim is protected, below)."""
    old = deployed.live("pvc", "vector-search-data")["metadata"]["uid"]

    plan, applied = deployed.change(**{"vectorSearch.storage": {"size": "3Gi"}})

    assert planned(plan, "vector-search-data", ":PersistentVolumeClaim") == "replace"
    assert planned(plan, "vector-search", ":StatefulSet") == "replace"
    assert applied.ok, applied.error
    claim = deployed.live("pvc", "vector-search-data")
    assert claim["metadata"]["uid"] != old
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["resources"]["requests"]["storage"] == "3Gi"
    assert deployed.live("statefulset", "vector-search")["status"]["readyReplicas"] == 1
    deployed.restore()


def test_a_new_namespace_replaces_every_object(deployed: Deployed) -> None:
    plan, applied = deployed.change(namespace="day2-moved")

    assert planned(plan, "namespace", "core/v1:Namespace") == "replace"
    namespaced = [s for s in plan.steps if s.type.startswith("kubernetes:") and s.op != "same"]
    assert {s.op for s in namespaced} <= {"replace", "create-replacement", "delete-replaced"}
    assert applied.ok, applied.error
    assert set(deployed.pods("gateway", "day2-moved"))
    namespaces = deployed.plane.kubectl.json("get", "namespaces")["items"]
    assert NAMESPACE not in [
        n["metadata"]["name"] for n in namespaces if not n["metadata"].get("deletionTimestamp")
    ]
    deployed.overrides["namespace"] = "day2-moved"


def test_destroy_leaves_nothing_of_studio(deployed: Deployed) -> None:
    namespace = deployed.overrides["namespace"]

    (destroyed,) = deployed.project.run(destroy())

    assert destroyed.ok, destroyed.error
    left = deployed.plane.kubectl.run(
        "get", "all,pvc,secrets,networkpolicies,serviceaccounts", "-n", namespace,
        "-o", "name", "--ignore-not-found",
    ).stdout.split()  # fmt: skip
    assert [name for name in left if not name.startswith("serviceaccount/default")] == []
    state = json.loads(deployed.project.cli("stack", "export").stdout)
    kept = [r["type"] for r in state["deployment"].get("resources") or []]
    assert kept in ([], ["pulumi:pulumi:Stack"])
