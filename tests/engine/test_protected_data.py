"""homelab keeps its data: the claim is protected, so neither a change that would replace it
nor `pulumi destroy` deletes it, and both stop with Pulumi's own message (README: "Data and
deleting it on purpose"). Real engine, real control plane with nodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import pytest

from infra.ops.engine import EngineProject, destroy, preview, up
from tests.counterparts.control_plane import ControlPlane
from tests.engine.conftest import stack_config
from tests.engine.test_existing_target import existing_overrides, existing_secrets

NAMESPACE: Final = "day2-homelab"
PROTECTED: Final = "To unprotect the resource"
"""In Pulumi's message for a replace and for a delete of a protected resource."""


@pytest.fixture(scope="module")
def homelab(
    toolchain: Path, control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> tuple[EngineProject, dict[str, Any]]:
    overrides = {**existing_overrides("homelab"), "namespace": NAMESPACE}
    project = EngineProject.create(
        tmp_path_factory.mktemp("homelab") / "engine", toolchain, "homelab",
        stack_config("homelab", overrides), existing_secrets("homelab", control_plane),
    )  # fmt: skip
    (applied,) = project.run(up())
    assert applied.ok, applied.error
    return project, overrides


def claim_uid(plane: ControlPlane) -> str:
    claim = plane.kubectl.json("get", "pvc", "vector-search-data", "-n", NAMESPACE)
    uid: str = claim["metadata"]["uid"]
    return uid


def test_a_new_storage_size_is_refused_and_the_claim_kept(
    homelab: tuple[EngineProject, dict[str, Any]], control_plane: ControlPlane
) -> None:
    project, overrides = homelab
    before = claim_uid(control_plane)
    project.configure(
        stack_config("homelab", {**overrides, "vectorSearch.storage": {"size": "30Gi"}})
    )

    (refused,) = project.run(up())

    assert not refused.ok
    refusal = "\n".join(refused.diagnostics)
    assert "as it is currently marked for protection" in refusal
    assert PROTECTED in refusal
    assert "PersistentVolumeClaim::vector-search-data" in refusal
    assert claim_uid(control_plane) == before
    statefulset = control_plane.kubectl.json("get", "statefulset", "vector-search", "-n", NAMESPACE)
    assert statefulset["status"]["readyReplicas"] == 1, "the workload on it still runs"
    project.configure(stack_config("homelab", overrides))
    (again,) = project.run(preview(expect_no_changes=True))
    assert again.ok, again.error


def test_a_new_namespace_is_refused_before_anything_changes(
    homelab: tuple[EngineProject, dict[str, Any]], control_plane: ControlPlane
) -> None:
    project, overrides = homelab
    before = claim_uid(control_plane)
    project.configure(stack_config("homelab", {**overrides, "namespace": "day2-homelab-moved"}))

    (refused,) = project.run(up())

    assert not refused.ok
    refusal = "\n".join(refused.diagnostics)
    # The namespace is protected with the claim: deleting it would delete the claim too.
    assert "as it is currently marked for protection" in refusal
    assert "core/v1:Namespace::namespace" in refusal
    assert refused.changed() == {}, "nothing was created or replaced"
    assert claim_uid(control_plane) == before
    namespaces = control_plane.kubectl.json("get", "namespaces")["items"]
    assert "day2-homelab-moved" not in [n["metadata"]["name"] for n in namespaces]
    project.configure(stack_config("homelab", overrides))
    (again,) = project.run(preview(expect_no_changes=True))
    assert again.ok, again.error


def test_destroy_stops_at_the_protected_claim_and_keeps_it_and_its_namespace(
    homelab: tuple[EngineProject, dict[str, Any]], control_plane: ControlPlane
) -> None:
    project, _ = homelab
    before = claim_uid(control_plane)

    (destroyed,) = project.run(destroy())

    assert not destroyed.ok
    refusal = "\n".join(destroyed.diagnostics)
    assert "cannot be deleted\nbecause it is protected" in refusal
    assert "pulumi state unprotect" in refusal
    assert PROTECTED in refusal
    assert claim_uid(control_plane) == before
    namespace = control_plane.kubectl.json("get", "namespace", NAMESPACE)
    assert not namespace["metadata"].get("deletionTimestamp")
    state = json.loads(project.cli("stack", "export").stdout)
    kept = {r["urn"].rsplit("::", 1)[1] for r in state["deployment"]["resources"]}
    assert {"vector-search-data", "namespace"} <= kept
