"""The cluster targets: which cluster the platform goes to, as a :class:`ClusterHandle` the
provider is built from (kind: created here; existing: a secret kubeconfig; render: none, the
provider writes manifests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from infra.cluster.existing import ExistingCluster
from infra.cluster.kind import KindCluster, KindClusterArgs
from infra.paths import REPO_ROOT
from infra.settings import StackSecrets, StackSettings


@dataclass(frozen=True)
class ClusterHandle:
    """What the rest of the program needs to know about the target cluster."""

    name: str
    kubeconfig: pulumi.Output[str] | None
    """None when rendering: the provider refuses a kubeconfig beside renderYamlToDirectory."""
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
    # No kubeconfig, context or cluster: the provider's check refuses each of them beside
    # renderYamlToDirectory ('"kubeconfig" arg is not compatible with "renderYamlToDirectory"
    # arg'), so the first `pulumi up` of every render stack failed. Rendering then creates
    # nothing anywhere; the provider still reads the ambient kubeconfig for API discovery, which
    # `KUBECONFIG=/dev/null` turns off (README: "Rendering manifests with the engine").
    return ClusterHandle(name, None, None, None, render_directory=render_directory(settings))
