"""The cluster's settings (``agent-platform:cluster``): where the platform runs (a kind cluster
this program creates, an existing cluster, or manifests rendered to a directory), and for kind
its node image, workers, host ports and local registry. Apart from the workload models because
the cluster targets (:mod:`infra.cluster`) read this slice alone."""

from __future__ import annotations

import re
from typing import Final, Literal, Self

from pydantic import Field, model_validator

from infra.settings.models import Model
from infra.settings.names import ClusterName, KubernetesName
from infra.settings.text import KubeContext, RenderDirectory
from infra.settings.values import Image, Port

KIND_NODE_IMAGE: Final = (
    "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
)
"""The node image published with kind v0.30.0 (the kind version the README asks for)."""


class LocalRegistry(Model):
    """kind's documented local-registry pattern: a ``registry:2`` container on the host, joined
    to the ``kind`` network, and a containerd mirror so ``localhost:<port>/image`` resolves
    inside the nodes. ``scripts/local-registry`` creates it with the same name and port."""

    enabled: bool = False
    name: KubernetesName = "kind-registry"
    host_port: Port = 5001


class ClusterSettings(Model):
    """``agent-platform:cluster``: where the platform runs and, for kind, how to create it."""

    name: ClusterName
    """Required in the type; the stack name fills it when the stack file does not set it
    (STACK_DEFAULTS), so every consumer has a name and an explicit null is refused."""
    target: Literal["kind", "existing", "render"] = "kind"
    node_image: Image = KIND_NODE_IMAGE
    workers: int = Field(0, ge=0, le=8)
    create_timeout_seconds: int = Field(600, ge=60, le=3600)
    delete_timeout_seconds: int = Field(300, ge=30, le=3600)
    delete_on_destroy: bool = True
    """Defaults per stack (STACK_DEFAULTS): studio deletes its cluster on destroy, homelab
    keeps it."""
    gateway_host_port: Port = 8080
    listen_address: Literal["127.0.0.1", "0.0.0.0"] = "127.0.0.1"  # noqa: S104 (documented choice)
    """Where the gateway's host port listens: loopback only, or every interface (homelab).
    Every interface needs ``gateway.tls`` on, or :attr:`plain_http_behind_tls_proxy`."""
    plain_http_behind_tls_proxy: bool = False
    """The user's statement that a TLS-terminating proxy in front is the only way to the
    gateway, so plain HTTP on every interface (``listenAddress: 0.0.0.0``) with
    ``gateway.tls.mode: off`` is intended (see StackSettings)."""
    registry: LocalRegistry = LocalRegistry()
    install_metrics_server: bool = False
    """kind only: install metrics-server, which HorizontalPodAutoscalers need (kind has none).
    Defaults per stack: homelab (autoscaling on) installs it, studio does not."""
    context: KubeContext | None = None
    """For ``target: existing``: the kubeconfig context to use (default: its current context)."""
    render_directory: RenderDirectory = "rendered"
    """For ``target: render``: where ``pulumi up`` writes manifests (one folder per stack);
    relative to the project directory unless absolute."""

    @model_validator(mode="after")
    def _host_ports_differ(self) -> Self:
        if self.registry.enabled and self.registry.host_port == self.gateway_host_port:
            raise ValueError(
                f"gatewayHostPort and registry.hostPort are both {self.gateway_host_port}; "
                "the host can bind each port once, choose two different ports"
            )
        return self

    @property
    def kubernetes_version(self) -> str:
        """``major.minor`` of the node image, for schema validation of rendered objects."""
        match = re.search(r":v(\d+)\.(\d+)", self.node_image)
        return f"{match[1]}.{match[2]}" if match else "1.34"
