"""Cluster targets and the Kubernetes provider that every platform resource uses.

``cluster.target`` picks one of three:

- ``kind``: create a local kind cluster (:class:`KindCluster`).
- ``existing``: use a cluster given by a secret kubeconfig (:class:`ExistingCluster`).
- ``render``: no cluster; the provider writes manifests to a directory (``renderYamlToDirectory``)
  for review or for GitOps tooling.

The provider is always built from an explicit kubeconfig, never the ambient default context, so a
``pulumi up`` cannot land on whatever cluster ``kubectl`` happens to point at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from infra.cluster.existing import ExistingCluster
from infra.cluster.kind import KindCluster, KindClusterArgs
from infra.paths import REPO_ROOT
from infra.settings import StackSecrets, StackSettings

PROVIDER_TYPE_NAME: Final = "k8s"

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


def build_provider(handle: ClusterHandle) -> k8s.Provider:
    """The one Kubernetes provider of the program, explicit and server-side-apply."""
    depends_on = [handle.component] if handle.component is not None else []
    return k8s.Provider(
        PROVIDER_TYPE_NAME,
        kubeconfig=handle.kubeconfig,
        context=handle.context,
        enable_server_side_apply=True,
        render_yaml_to_directory=handle.render_directory,
        # Deleting a kind cluster takes its objects with it, so an unreachable kind cluster
        # may drop them from state. Never for an existing cluster: that would orphan objects.
        delete_unreachable=handle.disposable,
        opts=pulumi.ResourceOptions(depends_on=depends_on),
    )
