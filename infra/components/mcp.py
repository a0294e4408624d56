"""McpServer: a Model Context Protocol server over streamable HTTP, backed by vector search.

The default image is the Qdrant MCP server (``mcp-server-qdrant``): its tools store and find
memories in a Qdrant collection. It embeds text in-process with fastembed (downloading the
model from the Hugging Face Hub on first start) and has no way to use the embedding service, so
the settings refuse ``mcp.useEmbeddingService`` with it; an MCP image that can is wired to the
embedding service with that setting (``EMBEDDING_URL``). ``mcp.readOnly`` sets
``QDRANT_READ_ONLY`` (only the ``qdrant-find`` tool). The server has no health endpoint, so its
probes check that the port accepts connections.

The gateway reaches the server as ``mcp.<namespace>.svc.cluster.local:<port>`` and sends that as
``Host``: an MCP server with DNS-rebinding protection on must allow it. The default image's
server (mcp-server-qdrant 0.8.0 on FastMCP 2) does not check Host, so nothing is set for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi

from infra.endpoints import Endpoint, SecretRef
from infra.settings import McpSettings
from infra.workload import (
    ContainerPort,
    Peer,
    PlatformContext,
    Probes,
    ScratchVolume,
    SecretEnv,
    TcpProbe,
    WorkloadSpec,
    build_workload,
)

RUN_AS_USER: Final = 1000
MCP_PATH: Final = "/mcp"


@dataclass(frozen=True)
class McpServerArgs:
    settings: McpSettings
    context: PlatformContext
    vector_search: Endpoint
    api_key: SecretRef
    """The vector search API key."""
    embedding: Endpoint | None = None
    """Needed with ``mcp.useEmbeddingService``."""


class McpServer(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:McpServer"

    service_name: pulumi.Output[str]
    endpoint: Endpoint
    """The streamable HTTP endpoint (``.../mcp``)."""

    def __init__(
        self, name: str, args: McpServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        settings = args.settings
        env: dict[str, pulumi.Input[str]] = {
            "QDRANT_URL": args.vector_search.url,
            "COLLECTION_NAME": settings.collection,
            "EMBEDDING_PROVIDER": "fastembed",
            "EMBEDDING_MODEL": settings.embedding_model,
            "QDRANT_READ_ONLY": "true" if settings.read_only else "false",
            "FASTMCP_HOST": "0.0.0.0",  # noqa: S104 (inside the pod; the NetworkPolicy guards it)
            "FASTMCP_PORT": str(settings.port),
            "FASTEMBED_CACHE_PATH": "/cache",
            "HOME": "/tmp",  # noqa: S108
        }
        egress = [
            Peer.of("vector-search", args.vector_search.port),
            # The embedding model download (fastembed) at start.
            Peer("internet", ports=(443,)),
        ]
        if settings.use_embedding_service:
            if args.embedding is None:
                raise ValueError("mcp.useEmbeddingService needs the embedding service's endpoint")
            env["EMBEDDING_URL"] = args.embedding.url
            egress.append(Peer.of("embedding", args.embedding.port))

        connectable = TcpProbe("http")
        spec = WorkloadSpec(
            component="mcp",
            app="mcp-server-qdrant",
            settings=settings,
            ports=(ContainerPort("http", settings.port, settings.port),),
            probes=Probes(
                liveness=connectable,
                readiness=TcpProbe("http", period_seconds=5),
                startup=TcpProbe("http", period_seconds=10, failure_threshold=30),
            ),
            run_as_user=RUN_AS_USER,
            command=settings.command,
            env=env,
            secret_env={"QDRANT_API_KEY": SecretEnv(args.api_key.name, args.api_key.key)},
            # Env from a Secret is read at start: roll the pods when the key changes.
            checksum=args.api_key.checksum,
            volumes=(
                ScratchVolume("cache", "/cache", size_limit="1Gi"),
                ScratchVolume("tmp", "/tmp", size_limit="256Mi"),  # noqa: S108
            ),
            ingress=(Peer.of("gateway", settings.port),),  # the gateway's /mcp route
            egress=tuple(egress),
        )
        workload = build_workload(spec, args.context, self)
        self.service_name = workload.service.metadata.name
        self.endpoint = workload.endpoint.with_path(MCP_PATH)
        self.register_outputs({"serviceName": self.service_name, "url": self.endpoint.url})
