"""The changes the settings allow, applied on top of a deployed stack by a real API server.

Each change is carried out as ``pulumi up`` would (tests/counterparts/changes.py), then undone
the same way, so both directions are checked (autoscaling on and off, snapshots on and off).
A change is fine when the API server accepts it, or when it refuses an immutable field and the
program replaces that object (``replace_on_changes``); a replacement of a protected object is
refused by Pulumi before anything changes, which is that option's documented purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from tests.counterparts.apply import Key, describe, key_of
from tests.counterparts.changes import (
    Rendered,
    carry_out,
    changed_paths,
    render,
    scaled_down_below_the_autoscaler,
)
from tests.counterparts.conftest import Deployments

IMAGES: Final = {
    "gateway.image": "nginxinc/nginx-unprivileged:1.29.1-alpine",
    "embedding.image": "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8.2",
    "vectorSearch.image": "qdrant/qdrant:v1.15.4-unprivileged",
    "mcp.image": "mcp/qdrant:0.8.1",
}
RESOURCES: Final = {
    "requests": {"cpu": "300m", "memory": "600Mi"},
    "limits": {"cpu": "3", "memory": "1536Mi"},
}
SNAPSHOTS: Final = {
    "enabled": True,
    "bucket": "agent-platform-snapshots",
    "endpoint": "http://minio.storage.svc:9000",
}
PVC: Final[Key] = ("PersistentVolumeClaim", "agent-platform", "vector-search-data")


@dataclass(frozen=True)
class Change:
    stack: str
    name: str
    overrides: dict[str, Any]
    replaced: frozenset[Key] = frozenset()
    """Objects the program replaces (the API server cannot change them in place)."""
    protected: frozenset[Key] = frozenset()
    """Objects whose replacement Pulumi refuses because they are protected."""


CHANGES: Final = [
    Change("studio", "images", IMAGES),
    Change("studio", "replicas", {"gateway.replicas": 3, "mcp.replicas": 2}),
    Change("studio", "resources", {"embedding.resources": RESOURCES}),
    Change(
        "studio", "storage size", {"vectorSearch.storage.size": "5Gi"}, replaced=frozenset({PVC})
    ),
    Change(
        "studio",
        "storage class",
        {"vectorSearch.storage.storageClass": "standard"},
        replaced=frozenset({PVC}),
    ),
    Change(
        "studio",
        "autoscaling on",
        {
            "gateway.autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 3},
            "cluster.installMetricsServer": True,
        },
    ),
    Change("studio", "snapshots on", {"vectorSearch.snapshots": SNAPSHOTS}),
    Change("homelab", "images", IMAGES),
    Change(
        "homelab",
        "autoscaling off",
        {"gateway.autoscaling.enabled": False, "embedding.autoscaling.enabled": False},
    ),
    Change(
        "homelab",
        "autoscaling off with other replicas",
        {
            "gateway.autoscaling.enabled": False,
            "gateway.replicas": 3,
            "embedding.autoscaling.enabled": False,
            "embedding.replicas": 1,
        },
    ),
    Change(
        "homelab",
        "autoscaling bounds",
        {"gateway.autoscaling.minReplicas": 3, "gateway.autoscaling.maxReplicas": 6},
    ),
    Change("homelab", "resources", {"vectorSearch.resources": RESOURCES}),
    Change(
        "homelab",
        "storage size",
        {"vectorSearch.storage.size": "30Gi"},
        protected=frozenset({PVC}),
    ),
]


def _names(keys: Iterable[Key]) -> list[str]:
    return sorted(describe(key) for key in keys)


@pytest.fixture(scope="module")
def bases(
    deployments: Deployments, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Rendered]:
    """Each stack as rendered in-process for the changes, checked against the deployed render."""
    rendered = {}
    for stack in ("studio", "homelab"):
        deployed = deployments[stack]
        assert deployed.applied_cleanly, f"{stack} could not be deployed (see test_apiserver)"
        base = render(stack, {}, tmp_path_factory.mktemp(f"base-{stack}"))
        deployed_objects = {key_of(d): d for d in deployed.manifests}
        differences = {
            describe(key_of(d)): changed_paths(deployed_objects.get(key_of(d)), d)
            for d in base.manifests
            if deployed_objects.get(key_of(d)) != d
        }
        assert differences == {}
        assert len(base.manifests) == len(deployed.manifests)
        rendered[stack] = base
    return rendered


@pytest.mark.parametrize(
    "change", [pytest.param(c, id=f"{c.stack}-{c.name.replace(' ', '-')}") for c in CHANGES]
)
def test_an_allowed_change_is_accepted_or_replaced_and_can_be_undone(
    deployments: Deployments, bases: dict[str, Rendered], tmp_path: Path, change: Change
) -> None:
    kubectl = deployments[change.stack].plane.kubectl
    base = bases[change.stack]
    changed = render(change.stack, change.overrides, tmp_path)
    assert changed.manifests != base.manifests, f"{change.name} changes no object"

    forward = carry_out(kubectl, base, changed)
    back = carry_out(kubectl, changed, base)

    assert forward.problems == [], "\n\n".join(forward.problems)
    assert back.problems == [], "\n\n".join(back.problems)
    assert _names(forward.replaced) == _names(change.replaced)
    assert _names(forward.blocked_by_protect) == _names(change.protected)
    added = {key_of(d) for d in changed.manifests} - {key_of(d) for d in base.manifests}
    assert _names(back.deleted) == _names(added)
    assert scaled_down_below_the_autoscaler(forward, changed) == {}
    assert scaled_down_below_the_autoscaler(back, base) == {}
