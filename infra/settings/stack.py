"""The stack: the supported stacks and what differs between them when the stack file does not
say (the one place that lists the stacks), and the model of all settings of one stack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, Self, get_args

from pydantic import (
    BaseModel,
    model_validator,
)

from infra.settings.cluster import ClusterSettings
from infra.settings.gateway import GatewaySettings
from infra.settings.models import (
    BudgetSettings,
    EmbeddingSettings,
    McpSettings,
    Model,
    ObservabilitySettings,
    PriorityClassSettings,
    VectorSearchSettings,
)
from infra.settings.names import PlatformNamespace

PROJECT: Final = "agent-platform"
"""The Pulumi project name: the namespace of every config key."""
StackName = Literal["studio", "homelab"]
"""The stacks this program deploys; adding one means adding its STACK_DEFAULTS entry and its
Pulumi.<stack>.yaml."""
SUPPORTED_STACKS: Final[tuple[StackName, ...]] = get_args(StackName)

STACK_DEFAULTS: Final[dict[StackName, dict[str, Any]]] = {
    "studio": {
        "cluster": {"name": "studio", "deleteOnDestroy": True},
        "vectorSearch": {"storage": {"protect": False}},
    },
    "homelab": {
        "cluster": {"name": "homelab", "deleteOnDestroy": False, "installMetricsServer": True},
        "vectorSearch": {"storage": {"protect": True}, "backup": {"enabled": True}},
    },
}
"""What differs by stack when the stack file does not say: a laptop cluster is disposable, a
server's is not. The stack files set everything else explicitly."""


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class StackSettings(Model):
    """All settings of one stack. Top-level fields are the config keys of the project."""

    stack: StackName
    cluster: ClusterSettings
    """Always given: STACK_DEFAULTS supply at least its name."""
    namespace: PlatformNamespace = "agent-platform"
    gateway: GatewaySettings = GatewaySettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    vector_search: VectorSearchSettings = VectorSearchSettings()
    mcp: McpSettings = McpSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    budget: BudgetSettings = BudgetSettings()
    priority_class: PriorityClassSettings = PriorityClassSettings()

    @model_validator(mode="before")
    @classmethod
    def _stack_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("stack") in STACK_DEFAULTS:
            return _deep_merge(STACK_DEFAULTS[data["stack"]], data)
        return data

    @model_validator(mode="after")
    def _autoscaling_needs_metrics(self) -> Self:
        scaled = [
            name
            for name, workload in (
                ("gateway", self.gateway),
                ("embedding", self.embedding),
                ("mcp", self.mcp),
            )
            if workload.autoscaling.enabled
        ]
        if scaled and self.cluster.target == "kind" and not self.cluster.install_metrics_server:
            raise ValueError(
                f"cluster.installMetricsServer: autoscaling is enabled for {', '.join(scaled)} "
                "but a kind cluster has no metrics-server; set it to true (or disable autoscaling)"
            )
        return self

    @model_validator(mode="after")
    def _gateway_on_the_network_speaks_tls(self) -> Self:
        cluster, tls = self.cluster, self.gateway.tls
        on_the_network = cluster.target == "kind" and cluster.listen_address == "0.0.0.0"  # noqa: S104
        if cluster.plain_http_behind_tls_proxy and tls.enabled:
            raise ValueError(
                f"cluster.plainHttpBehindTlsProxy: is true, but gateway.tls.mode is {tls.mode}, "
                "so the gateway serves HTTPS itself; remove plainHttpBehindTlsProxy, or set "
                "gateway.tls.mode: off behind your proxy"
            )
        if on_the_network and not tls.enabled and not cluster.plain_http_behind_tls_proxy:
            raise ValueError(
                "cluster.listenAddress: 0.0.0.0 puts the gateway on every address of this "
                "machine, and with gateway.tls.mode off every request would carry the bearer "
                "token in clear across the network; set gateway.tls.mode: generated (or "
                "provided), or, when a TLS-terminating proxy in front is the only way in, say "
                "so with cluster.plainHttpBehindTlsProxy: true"
            )
        if on_the_network and tls.mode == "generated" and not (tls.dns_names or tls.ip_addresses):
            raise ValueError(
                "gateway.tls: the gateway listens on the network (cluster.listenAddress "
                "0.0.0.0), but a generated certificate would name only this machine "
                "(localhost); list the names (dnsNames) or addresses (ipAddresses) other "
                "machines use to reach it"
            )
        return self

    @model_validator(mode="after")
    def _gateway_exposed_over_tls(self) -> Self:
        """An exposure outside the cluster never carries the bearer token in clear: TLS ends
        at the gateway (gateway.tls), at the ingress (its tlsSecretName), or at a proxy or
        Gateway listener the user states is HTTPS (cluster.plainHttpBehindTlsProxy)."""
        exposure, cluster, tls = self.gateway.exposure, self.cluster, self.gateway.tls
        if not exposure.from_outside:
            return self
        if cluster.target == "kind":
            raise ValueError(
                f"gateway.exposure.type: {exposure.type} is for an existing cluster; on kind the "
                "gateway is reached through cluster.gatewayHostPort (a NodePort), so leave "
                "exposure.type at clusterIP"
            )
        stated = cluster.plain_http_behind_tls_proxy
        if exposure.type == "loadBalancer" and not (tls.enabled or stated):
            raise ValueError(
                "gateway.exposure.type: loadBalancer with gateway.tls.mode off would carry every "
                "bearer token in clear to the load balancer's address; set gateway.tls.mode: "
                "provided (or generated), or, when the load balancer itself terminates TLS, say "
                "so with cluster.plainHttpBehindTlsProxy: true"
            )
        if exposure.type == "ingress" and exposure.tls_secret_name is None and not stated:
            raise ValueError(
                "gateway.exposure.tlsSecretName: unset, so the ingress would take "
                "requests, bearer token included, over plain HTTP; name the kubernetes.io/tls "
                "Secret of its host (TLS ends at the ingress), or, when TLS ends in front "
                "of it, say so with cluster.plainHttpBehindTlsProxy: true"
            )
        if exposure.type == "httpRoute" and not stated:
            # gateway.tls is no answer: it protects nothing between clients and the listener,
            # and the route speaks plain HTTP to its backend (no BackendTLSPolicy is made).
            raise ValueError(
                "gateway.exposure.type: httpRoute: TLS ends at the parent Gateway's listener, "
                "which this program cannot see, and the route reaches the gateway over plain "
                "HTTP; state that the listener is HTTPS with cluster.plainHttpBehindTlsProxy: "
                "true (and leave gateway.tls.mode off)"
            )
        return self

    @property
    def cluster_name(self) -> str:
        return self.cluster.name


CONFIG_KEYS: Final = tuple(
    field.alias or name for name, field in StackSettings.model_fields.items() if name != "stack"
)
OBJECT_KEYS: Final = frozenset(
    field.alias or name
    for name, field in StackSettings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
)
SECRET_KEYS: Final = (
    "gatewayToken",
    "vectorSearchApiKey",
    "vectorSearchReadOnlyApiKey",
    "snapshotAccessKeyId",
    "snapshotSecretAccessKey",
    "kubeconfig",
    "gatewayTlsKey",
)
