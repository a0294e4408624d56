"""The kind cluster configuration, generated from typed settings.

The generated YAML is the single description of the cluster: the KindCluster component passes
it to ``scripts/create-kind-cluster`` on stdin and hashes it into the command's triggers, so
any change to nodes, image, port mappings or registry mirror replaces the cluster.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import yaml

from infra.settings import ClusterSettings

KIND_API_VERSION: Final = "kind.x-k8s.io/v1alpha4"

# kind's local-registry pattern: containerd reads per-registry hosts.toml files from this
# directory; the create script writes one for localhost:<port> pointing at the registry
# container (https://kind.sigs.k8s.io/docs/user/local-registry/).
CONTAINERD_REGISTRY_PATCH: Final = (
    '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"'
)


def kind_config(cluster: ClusterSettings, *, gateway_node_port: int) -> dict[str, Any]:
    """The kind ``Cluster`` object for these settings."""
    control_plane: dict[str, Any] = {
        "role": "control-plane",
        "image": cluster.node_image,
        # The gateway Service is a NodePort; this maps it to the host so the platform is
        # reachable at http://<listenAddress>:<gatewayHostPort>.
        "extraPortMappings": [
            {
                "containerPort": gateway_node_port,
                "hostPort": cluster.gateway_host_port,
                "listenAddress": cluster.listen_address,
                "protocol": "TCP",
            }
        ],
    }
    workers = [{"role": "worker", "image": cluster.node_image} for _ in range(cluster.workers)]
    config: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": KIND_API_VERSION,
        "name": cluster.name,
        "nodes": [control_plane, *workers],
    }
    if cluster.registry.enabled:
        config["containerdConfigPatches"] = [CONTAINERD_REGISTRY_PATCH]
    return config


def kind_config_yaml(cluster: ClusterSettings, *, gateway_node_port: int) -> str:
    return yaml.safe_dump(
        kind_config(cluster, gateway_node_port=gateway_node_port),
        sort_keys=False,
        default_flow_style=False,
    )


def config_digest(config_yaml: str) -> str:
    return hashlib.sha256(config_yaml.encode()).hexdigest()
