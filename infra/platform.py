"""The platform on the cluster: namespace, then VectorSearch, Embedding, McpServer, Gateway.

Each component receives its own settings slice, the shared :class:`PlatformContext` and the
:class:`~infra.endpoints.Endpoint` (and :class:`~infra.endpoints.SecretRef`) of what it talks to:
no component knows another's DNS name.
"""

from __future__ import annotations

from typing import Any, Final

import pulumi
import pulumi_kubernetes as k8s

from infra.components.embedding import Embedding, EmbeddingArgs
from infra.components.gateway import Gateway, GatewayArgs
from infra.components.mcp import McpServer, McpServerArgs
from infra.components.metrics_server import MetricsServer, MetricsServerArgs
from infra.components.vector_search import VectorSearch, VectorSearchArgs
from infra.observability import phase
from infra.settings import StackSecrets, StackSettings
from infra.workload import MANAGED_BY, PART_OF, PlatformContext, ServiceType

REGISTRY_HELP: Final = "https://kind.sigs.k8s.io/docs/user/local-registry/"


PLATFORM_LABELS: Final = {
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": MANAGED_BY,
}
"""The labels of the platform-wide objects (the namespace, the PriorityClass)."""


class PlatformNamespace(pulumi.ComponentResource):
    """The namespace, enforcing Pod Security "restricted" and denying all traffic by default
    (each workload's own NetworkPolicy then allows exactly its flows), and the platform-wide
    objects beside it: the PriorityClass when ``priorityClass.create``, kind's registry note."""

    TYPE: Final = "agent-platform:platform:Namespace"

    name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        options = pulumi.ResourceOptions(parent=self, provider=provider)
        version = f"v{settings.cluster.kubernetes_version}"
        namespace = k8s.core.v1.Namespace(
            "namespace",
            metadata={
                "name": settings.namespace,
                "labels": {
                    **PLATFORM_LABELS,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": version,
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
            # Protected with the data claim: deleting a namespace deletes what is in it, so an
            # unprotected one let a new `namespace` (a replace) delete the protected claim with
            # it (found by the engine tier). Now that replace, and `pulumi destroy`, stop here.
            opts=options.merge(
                pulumi.ResourceOptions(protect=settings.vector_search.storage.protect)
            ),
        )
        self.name = namespace.metadata.name
        k8s.networking.v1.NetworkPolicy(
            "default-deny",
            metadata={"name": "default-deny", "namespace": self.name},
            spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
            opts=options,
        )
        self.priority_class_name: pulumi.Output[str] | None = None
        priority = settings.priority_class
        if priority.create:
            created = k8s.scheduling.v1.PriorityClass(
                "priority-class",
                metadata={"name": priority.name, "labels": PLATFORM_LABELS},
                value=priority.value,
                global_default=False,
                preemption_policy="PreemptLowerPriority",
                description=(
                    "agent-platform workloads: placed before, and may preempt, lower-priority work"
                ),
                opts=options,
            )
            self.priority_class_name = created.metadata.name
        registry = settings.cluster.registry
        if settings.cluster.target == "kind" and registry.enabled:
            # KEP-1755: tells tools (tilt, skaffold, ...) where to push images for this cluster.
            k8s.core.v1.ConfigMap(
                "local-registry-hosting",
                metadata={"name": "local-registry-hosting", "namespace": "kube-public"},
                data={
                    "localRegistryHosting.v1": (
                        f'host: "localhost:{registry.host_port}"\nhelp: "{REGISTRY_HELP}"\n'
                    )
                },
                opts=options,
            )
        self.register_outputs({"name": self.name})


def gateway_service_type(settings: StackSettings) -> ServiceType:
    """kind maps a host port to a NodePort; an existing cluster gets a LoadBalancer when the
    exposure says so; an Ingress or HTTPRoute reaches the ClusterIP Service."""
    if settings.cluster.target == "kind":
        return "NodePort"
    return "LoadBalancer" if settings.gateway.exposure.type == "loadBalancer" else "ClusterIP"


def gateway_url(settings: StackSettings, in_cluster: pulumi.Output[str]) -> pulumi.Output[str]:
    """Where clients reach the gateway: the host port on kind (on every address of the host
    when ``listenAddress`` is 0.0.0.0, loopback included), the Service elsewhere; https when
    ``gateway.tls`` is on."""
    cluster = settings.cluster
    if cluster.target == "kind":
        scheme = "https" if settings.gateway.tls.enabled else "http"
        return pulumi.Output.from_input(f"{scheme}://localhost:{cluster.gateway_host_port}")
    return in_cluster


def deploy_platform(
    settings: StackSettings, secrets: StackSecrets, provider: k8s.Provider
) -> dict[str, pulumi.Output[Any]]:
    with phase("namespace", resource=settings.namespace):
        namespace = PlatformNamespace("platform", settings, provider)
    context = PlatformContext(
        namespace=namespace.name,
        provider=provider,
        stack=settings.stack,
        cluster_name=settings.cluster_name,
        otlp_endpoint=settings.observability.otlp_url,
        otlp_port=settings.observability.otlp_port,
        metrics_namespace=settings.observability.metrics_namespace,
        priority_class_name=namespace.priority_class_name,
    )
    mcp_uses_embedding = settings.mcp.use_embedding_service

    if settings.cluster.target == "kind" and settings.cluster.install_metrics_server:
        with phase("component", resource="metrics-server"):
            MetricsServer("metrics-server", MetricsServerArgs(context=context))

    with phase("component", resource="vector-search"):
        vector_search = VectorSearch(
            "vector-search",
            VectorSearchArgs(settings=settings.vector_search, context=context, secrets=secrets),
        )
    with phase("component", resource="embedding"):
        embedding = Embedding(
            "embedding",
            EmbeddingArgs(
                settings=settings.embedding,
                context=context,
                allow_from=("gateway", "mcp") if mcp_uses_embedding else ("gateway",),
            ),
        )
    with phase("component", resource="mcp"):
        mcp = McpServer(
            "mcp",
            McpServerArgs(
                settings=settings.mcp,
                context=context,
                vector_search=vector_search.endpoint,
                # Read-only MCP gets the read-only key: it cannot write, whatever its tools say.
                api_key=(
                    vector_search.read_only_key
                    if settings.mcp.read_only and vector_search.read_only_key is not None
                    else vector_search.api_key
                ),
                embedding=embedding.endpoint if mcp_uses_embedding else None,
            ),
        )
    with phase("component", resource="gateway"):
        gateway = Gateway(
            "gateway",
            GatewayArgs(
                settings=settings.gateway,
                context=context,
                token=secrets.gateway_token,
                vector_search_api_key=(
                    secrets.vector_search_read_only_api_key
                    if settings.gateway.search_read_only
                    and secrets.vector_search_read_only_api_key is not None
                    else secrets.vector_search_api_key
                ),
                embedding=embedding.endpoint,
                vector_search=vector_search.endpoint,
                mcp=mcp.endpoint,
                tls_key=secrets.gateway_tls_key,
                service_type=gateway_service_type(settings),
            ),
        )

    return {
        "namespace": namespace.name,
        "gatewayUrl": gateway_url(settings, gateway.url),
        # What clients trust (public): `pulumi stack output gatewayCaCertificate > ca.pem`.
        **(
            {"gatewayCaCertificate": gateway.ca_certificate}
            if gateway.ca_certificate is not None
            else {}
        ),
        "endpoints": pulumi.Output.all(
            gateway=gateway.url,
            embedding=embedding.endpoint.url,
            vectorSearch=vector_search.endpoint.url,
            vectorSearchGrpc=vector_search.grpc.url,
            mcp=mcp.endpoint.url,
        ),
    }
