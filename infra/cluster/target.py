"""The cluster targets: which cluster the platform goes to, as a :class:`ClusterHandle` the
provider is built from (kind: created here; existing: a secret kubeconfig; render: none, the
provider writes manifests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pulumi

from infra.cluster.existing import ExistingCluster
from infra.cluster.kind import KindCluster, KindClusterArgs
from infra.paths import REPO_ROOT
from infra.settings import StackSecrets, StackSettings

# Render mode still asks a cluster whether custom resources are namespaced (none are used
# here). An explicit kubeconfig for an address where nothing listens (the discard port on
# loopback) keeps it from ever reaching the user's current cluster.
_RENDER_KUBECONFIG: Final = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "render", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "render", "context": {"cluster": "render", "user": "render"}}],
        "users": [{"name": "render", "user": {}}],
        "current-context": "render",
    }
)


@dataclass(frozen=True)
class ClusterHandle:
    """What the rest of the program needs to know about the target cluster."""

    name: str
    kubeconfig: pulumi.Output[str]
    context: pulumi.Input[str] | None
    component: pulumi.Resource | None
    render_directory: str | None = None
    disposable: bool = False
    """True for a kind cluster this program owns: its objects die with it."""


def render_directory(settings: StackSettings) -> str:
    base = Path(settings.cluster.render_directory)
    if not base.is_absolute():
        base = REPO_ROOT / base
    return str(base / settings.stack)


def build_cluster(settings: StackSettings, secrets: StackSecrets) -> ClusterHandle:
    cluster = settings.cluster
    name = settings.cluster_name
    if cluster.target == "kind":
        kind = KindCluster(
            name,
            KindClusterArgs(cluster=cluster, gateway_node_port=settings.gateway.node_port),
        )
        return ClusterHandle(name, kind.kubeconfig, kind.context, kind, disposable=True)
    if cluster.target == "existing":
        assert secrets.kubeconfig is not None  # noqa: S101 (settings require it for existing)
        existing = ExistingCluster(
            name, cluster_name=name, kubeconfig=secrets.kubeconfig, context=cluster.context
        )
        return ClusterHandle(name, existing.kubeconfig, cluster.context, existing)
    return ClusterHandle(
        name,
        pulumi.Output.secret(_RENDER_KUBECONFIG),
        "render",
        None,
        render_directory=render_directory(settings),
    )
