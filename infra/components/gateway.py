"""Gateway: nginx (unprivileged image), the platform's single entry point.

Its configuration is generated from typed settings by :mod:`infra.components.gateway_config`
and, because it holds the gateway token and the vector search API key, stored in a Kubernetes
Secret mounted read-only; a checksum annotation rolls the pods when it changes. On kind the
Service is a NodePort that the kind config maps to the host (``cluster.gatewayHostPort``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.components import gateway_config
from infra.settings import GatewaySettings
from infra.workload import (
    HttpProbe,
    Peer,
    PlatformContext,
    Port,
    Probes,
    ScratchVolume,
    SecretVolume,
    WorkloadSpec,
    build_workload,
    checksum,
)

RUN_AS_USER: Final = 101  # the nginx user of nginxinc/nginx-unprivileged
CONFIG_DIR: Final = "/etc/nginx/agent-platform"
CONFIG_SECRET: Final = "gateway-config"  # noqa: S105 (an object name, not a password)


@dataclass(frozen=True)
class Upstream:
    host: pulumi.Input[str]
    port: int


@dataclass(frozen=True)
class GatewayArgs:
    settings: GatewaySettings
    context: PlatformContext
    token: pulumi.Output[str]
    vector_search_api_key: pulumi.Output[str]
    embedding: Upstream
    vector_search: Upstream
    mcp: Upstream
    service_type: Literal["ClusterIP", "NodePort"] = "ClusterIP"


class Gateway(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:Gateway"

    service_name: pulumi.Output[str]
    url: pulumi.Output[str]
    """In-cluster URL."""

    def __init__(
        self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        settings, ctx = args.settings, args.context

        def render(values: list[str]) -> str:
            token, api_key, embedding, vector_search, mcp = values
            return gateway_config.render(
                settings,
                gateway_config.Upstreams(
                    embedding=gateway_config.Upstream(embedding, args.embedding.port),
                    vector_search=gateway_config.Upstream(vector_search, args.vector_search.port),
                    mcp=gateway_config.Upstream(mcp, args.mcp.port),
                ),
                token=token,
                vector_search_api_key=api_key,
            )

        rendered: pulumi.Output[str] = pulumi.Output.all(
            args.token,
            args.vector_search_api_key,
            args.embedding.host,
            args.vector_search.host,
            args.mcp.host,
        ).apply(render)
        # Derived from secrets, so already secret; said again so no refactor can lose it.
        nginx_conf: pulumi.Output[str] = pulumi.Output.secret(rendered)
        config = k8s.core.v1.Secret(
            "gateway-config",
            metadata={
                "name": CONFIG_SECRET,
                "namespace": ctx.namespace,
                "labels": {"app.kubernetes.io/part-of": "agent-platform"},
            },
            type="Opaque",
            string_data={"nginx.conf": nginx_conf},
            opts=pulumi.ResourceOptions(parent=self, provider=ctx.provider),
        )
        spec = WorkloadSpec(
            component="gateway",
            app="nginx",
            settings=settings,
            ports=(Port("http", settings.port, settings.service_port),),
            service_type=args.service_type,
            node_ports={"http": settings.node_port} if args.service_type == "NodePort" else {},
            probes=Probes(
                liveness=HttpProbe("/healthz", "http"),
                readiness=HttpProbe("/healthz", "http", period_seconds=5),
                startup=HttpProbe("/healthz", "http", period_seconds=2, failure_threshold=30),
            ),
            run_as_user=RUN_AS_USER,
            command=("nginx", "-c", f"{CONFIG_DIR}/nginx.conf", "-g", "daemon off;"),
            volumes=(
                SecretVolume("config", CONFIG_DIR, config.metadata.name),
                ScratchVolume("tmp", "/tmp", size_limit="256Mi"),  # noqa: S108
            ),
            checksum=checksum(nginx_conf),
            ingress=(Peer("any", ports=(settings.port,), why="clients of the platform"),),
            egress=(
                Peer.of("embedding", args.embedding.port, why="/v1/embeddings, /v1/embed"),
                Peer.of("vector-search", args.vector_search.port, why="/v1/search/"),
                Peer.of("mcp", args.mcp.port, why="/mcp"),
            ),
        )
        workload = build_workload(spec, ctx, self)
        self.service_name = workload.service.metadata.name
        self.url = workload.url
        self.register_outputs({"serviceName": self.service_name, "url": self.url})
