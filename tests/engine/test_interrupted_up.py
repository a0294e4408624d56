"""An `up` interrupted half-way (SIGINT to the CLI, as Ctrl-C sends) and the `up` after it: the
engine records what it created, and the next run converges with no duplicate or orphaned
object. Real engine, real control plane with nodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from infra.ops.engine import EngineProject, preview, up
from tests.counterparts.control_plane import ControlPlane
from tests.engine.conftest import stack_config
from tests.engine.test_existing_target import existing_overrides, existing_secrets

NAMESPACE: Final = "day2-interrupted"
KINDS: Final = "deployments,statefulsets,services,secrets,networkpolicies,serviceaccounts,pvc"
"""What the program creates in its namespace."""


def live_objects(plane: ControlPlane) -> set[tuple[str, str]]:
    """(kind, name) of every object of those kinds in the namespace, the API server's own
    (the `default` ServiceAccount) left out."""
    listed = plane.kubectl.json("get", KINDS, "-n", NAMESPACE)
    return {
        (item["kind"], item["metadata"]["name"])
        for item in listed["items"]
        if not (item["kind"] == "ServiceAccount" and item["metadata"]["name"] == "default")
    }


def state_objects(project: EngineProject) -> list[tuple[str, str]]:
    """(kind, name) of every Kubernetes object the state holds, as often as it holds it."""
    state = json.loads(project.cli("stack", "export").stdout)
    return [
        (r["type"].rsplit(":", 1)[1], r["outputs"]["metadata"]["name"])
        for r in state["deployment"]["resources"]
        if r["type"].startswith("kubernetes:") and r.get("outputs", {}).get("metadata")
        and r["type"] != "kubernetes:core/v1:Namespace"
    ]  # fmt: skip


def test_the_up_after_an_interrupted_up_converges_with_nothing_duplicated_or_orphaned(
    toolchain: Path, control_plane: ControlPlane, tmp_path: Path
) -> None:
    overrides = {**existing_overrides("studio"), "namespace": NAMESPACE}
    project = EngineProject.create(
        tmp_path / "engine", toolchain, "studio", stack_config("studio", overrides),
        existing_secrets("studio", control_plane),
    )  # fmt: skip

    (interrupted,) = project.run(up(interrupt_after=8))

    assert interrupted.interrupted
    assert not interrupted.ok
    created = state_objects(project)
    assert 0 < len(created) < 21, "stopped half-way, with what it made recorded"
    assert set(created) <= live_objects(control_plane)

    converged, again = project.run(up(), preview(expect_no_changes=True))

    assert converged.ok, converged.error
    assert again.ok, again.error
    recorded = state_objects(project)
    assert len(recorded) == len(set(recorded)), "no object is in the state twice"
    assert set(recorded) == live_objects(control_plane), "no orphan, nothing missing"
