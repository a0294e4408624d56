"""Embedding: Hugging Face Text Embeddings Inference (CPU image).

TEI downloads the model from the Hugging Face Hub at start and caches it in an emptyDir
(``cacheSize``), so the startup probe allows ``startupTimeoutSeconds`` for the download. It
serves ``/health``, an OpenAI-compatible ``/v1/embeddings`` and ``/embed`` on ``port``, and
Prometheus metrics on 9000 (``--prometheus-port``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi

from infra.endpoints import Endpoint
from infra.settings import EmbeddingSettings
from infra.workload import (
    ContainerPort,
    HttpProbe,
    Peer,
    PlatformContext,
    Probes,
    ScratchVolume,
    WorkloadSpec,
    build_workload,
)

METRICS_PORT: Final = 9000
RUN_AS_USER: Final = 1000
CACHE_PATH: Final = "/data"
PROBE_PERIOD_SECONDS: Final = 10


@dataclass(frozen=True)
class EmbeddingArgs:
    settings: EmbeddingSettings
    context: PlatformContext
    allow_from: tuple[str, ...] = ("gateway",)
    """Components that may call the embedding service."""


class Embedding(pulumi.ComponentResource):
    TYPE: Final = "agent-platform:platform:Embedding"

    service_name: pulumi.Output[str]
    endpoint: Endpoint
    """The API: ``/v1/embeddings``, ``/embed``, ``/health``."""

    def __init__(
        self, name: str, args: EmbeddingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        settings = args.settings
        command_args = [
            "--model-id", settings.model,
            "--hostname", "0.0.0.0",  # noqa: S104 (inside the pod; the NetworkPolicy guards it)
            "--port", str(settings.port),
            "--prometheus-port", str(METRICS_PORT),
        ]  # fmt: skip
        if settings.revision:
            command_args += ["--revision", settings.revision]
        health = HttpProbe("/health", "http", period_seconds=PROBE_PERIOD_SECONDS)
        spec = WorkloadSpec(
            component="embedding",
            app="text-embeddings-inference",
            settings=settings,
            ports=(
                ContainerPort("http", settings.port, settings.port),
                ContainerPort("metrics", METRICS_PORT),
            ),
            probes=Probes(
                liveness=health,
                readiness=HttpProbe("/health", "http", period_seconds=5, failure_threshold=2),
                startup=HttpProbe(
                    "/health",
                    "http",
                    period_seconds=PROBE_PERIOD_SECONDS,
                    failure_threshold=settings.startup_timeout_seconds // PROBE_PERIOD_SECONDS,
                ),
            ),
            run_as_user=RUN_AS_USER,
            args=command_args,
            env={"HUGGINGFACE_HUB_CACHE": CACHE_PATH, "HOME": "/tmp"},  # noqa: S108
            volumes=(
                ScratchVolume("model-cache", CACHE_PATH, size_limit=settings.cache_size),
                ScratchVolume("tmp", "/tmp", size_limit="256Mi"),  # noqa: S108
            ),
            metrics=("metrics", "/metrics"),
            ingress=tuple(Peer.of(caller, settings.port) for caller in args.allow_from),
            # The model download from the Hugging Face Hub at start.
            egress=(Peer("internet", ports=(443,)),),
        )
        workload = build_workload(spec, args.context, self)
        self.service_name = workload.service.metadata.name
        self.endpoint = workload.endpoint
        self.register_outputs({"serviceName": self.service_name, "url": self.endpoint.url})
