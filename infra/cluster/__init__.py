"""Cluster targets and the Kubernetes provider that every platform resource uses.

``cluster.target`` picks one of three:

- ``kind``: create a local kind cluster (:class:`KindCluster`).
- ``existing``: use a cluster given by a secret kubeconfig (:class:`ExistingCluster`).
- ``render``: no cluster; the provider writes manifests to a directory (``renderYamlToDirectory``)
  for review or for GitOps tooling.

The provider is always built from an explicit kubeconfig, never the ambient default context, so a
``pulumi up`` cannot land on whatever cluster ``kubectl`` happens to point at.
"""

from infra.cluster.provider import build_provider
from infra.cluster.target import ClusterHandle, build_cluster

__all__ = ["ClusterHandle", "build_cluster", "build_provider"]
