"""The settings models: the :class:`Model` base (frozen, strict about keys, camelCase in YAML),
what every workload shares (:class:`Workload`: image, replicas, resources, autoscaling), the
embedding, vector search and MCP workloads, observability and the budget, each with the rules
that span several of its fields. The cluster's model is :mod:`infra.settings.cluster` and the
gateway's :mod:`infra.settings.gateway`: each is large enough to be read on its own."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.quantity import millicores, parse_quantity
from infra.settings.labels import LabelKey, LabelValue, PriorityClassName
from infra.settings.names import KubernetesName, ModelId, StorageClassName
from infra.settings.text import (
    BucketName,
    CollectionName,
    Command,
    CronSchedule,
    GitRevision,
    Region,
)
from infra.settings.values import (
    CpuQuantity,
    Image,
    MemoryQuantity,
    OtlpEndpoint,
    SizeQuantity,
    SnapshotEndpoint,
    UnprivilegedPort,
    image_repository,
)


class Model(BaseModel):
    """Base for every settings model: frozen, strict about keys, camelCase in YAML."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
    )


class Quantities(Model):
    cpu: CpuQuantity
    memory: MemoryQuantity


class Resources(Model):
    requests: Quantities
    limits: Quantities

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        if millicores(self.requests.cpu) > millicores(self.limits.cpu):
            raise ValueError(
                f"requests.cpu {self.requests.cpu} exceeds limits.cpu {self.limits.cpu}"
            )
        if parse_quantity(self.requests.memory) > parse_quantity(self.limits.memory):
            raise ValueError(
                f"requests.memory {self.requests.memory} exceeds limits.memory {self.limits.memory}"
            )
        return self


class Autoscaling(Model):
    enabled: bool = False
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(3, ge=1, le=50)
    target_cpu_utilization: int = Field(75, ge=10, le=100)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"minReplicas {self.min_replicas} is greater than maxReplicas "
                f"{self.max_replicas}; set minReplicas ≤ maxReplicas"
            )
        return self


class Toleration(Model):
    """One toleration, as a pod spec writes it; the combinations the API server would refuse
    are refused here, before anything is created."""

    key: LabelKey | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = Field(None, ge=0, le=31_536_000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.operator == "Exists" and self.value:
            raise ValueError("operator Exists takes no value; remove value, or use Equal")
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without a key must use operator: Exists (all taints)")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds applies only to effect: NoExecute")
        return self


class PriorityClassSettings(Model):
    """``priorityClass``: a PriorityClass the program creates for the platform's workloads
    (those without a ``priorityClassName`` of their own), so the scheduler places them before,
    and may preempt, batch work of lower priority."""

    create: bool = False
    name: PriorityClassName = "agent-platform"
    """Cluster-wide: two stacks on one cluster need two names (or one creates, one names it
    in ``priorityClassName``)."""
    value: int = Field(100_000, ge=-2_147_483_648, le=1_000_000_000)
    """Kubernetes keeps values above 1e9 for its own system classes."""

    @model_validator(mode="after")
    def _not_a_system_class(self) -> Self:
        if self.create and self.name.startswith("system-"):
            raise ValueError(
                f"name {self.name!r}: Kubernetes makes the system- classes itself; to use one, "
                "set create: false and name it in a workload's priorityClassName"
            )
        return self


class Workload(Model):
    """What every component shares; each component model adds what is special to it."""

    image: Image
    replicas: int = Field(1, ge=1, le=50)
    resources: Resources
    autoscaling: Autoscaling = Autoscaling()
    node_selector: dict[LabelKey, LabelValue] = Field(default_factory=dict, max_length=20)
    """Nodes the pods may run on (all these labels); the scheduler never places them elsewhere."""
    tolerations: tuple[Toleration, ...] = Field((), max_length=20)
    """Taints the pods tolerate (dedicated nodes: a GPU pool, big nodes for embedding)."""
    priority_class_name: PriorityClassName | None = None
    """A PriorityClass of the cluster; unset: ``priorityClass`` when it is created, else none."""

    def _distinct_ports(self, **ports: int) -> None:
        seen: dict[int, str] = {}
        for name, number in ports.items():
            if number in seen:
                raise ValueError(
                    f"{to_camel(seen[number])} and {to_camel(name)} are both {number}; "
                    "each port of a component must differ"
                )
            seen[number] = name


def default_resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> Resources:
    """A component's default requests and limits."""
    return Resources(
        requests=Quantities(cpu=cpu, memory=memory),
        limits=Quantities(cpu=cpu_limit, memory=memory_limit),
    )


class EmbeddingSettings(Workload):
    image: Image = "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8"
    resources: Resources = default_resources("250m", "512Mi", "2", "1Gi")
    model: ModelId = "sentence-transformers/all-MiniLM-L6-v2"
    revision: GitRevision | None = None
    """A model revision (commit, branch or tag) to pin the weights; default: its main branch."""
    port: UnprivilegedPort = 8080
    cache_size: SizeQuantity = "2Gi"
    startup_timeout_seconds: int = Field(600, ge=30, le=3600)
    """How long the startup probe waits for the model download and load."""


class StorageSettings(Model):
    size: SizeQuantity = "1Gi"
    storage_class: StorageClassName | None = None
    """Default: the cluster's default StorageClass (kind: ``standard``, local-path)."""
    protect: bool = True
    """Pulumi ``protect`` on the data volume: destroy and replacement fail until it is lifted
    (README: "Deleting vector data on purpose"). Defaults per stack: homelab on, studio off."""


class SnapshotSettings(Model):
    """Qdrant snapshots on S3-compatible object storage (credentials are secrets)."""

    enabled: bool = False
    bucket: BucketName | None = None
    endpoint: SnapshotEndpoint | None = None
    """S3-compatible endpoint (MinIO: http://minio:9000); default: AWS S3."""
    region: Region = "us-east-1"

    @model_validator(mode="after")
    def _bucket_when_enabled(self) -> Self:
        if self.enabled and not self.bucket:
            raise ValueError("snapshots are enabled but no bucket is set; set snapshots.bucket")
        return self


class BackupSettings(Model):
    """``vectorSearch.backup``: scheduled snapshots of the collections (a CronJob calling
    Qdrant's snapshot API), kept to the newest ``retention`` per collection. Where they go is
    Qdrant's snapshot storage: the data volume, or S3 with ``vectorSearch.snapshots``."""

    enabled: bool = False
    schedule: CronSchedule = "17 3 * * *"
    """Cron, in UTC (the CronJob's timeZone is Etc/UTC)."""
    retention: int = Field(7, ge=1, le=365)
    """How many snapshots of each collection to keep."""
    collections: tuple[CollectionName, ...] = Field((), max_length=100)
    """Empty: every collection Qdrant has when the job runs."""
    image: Image = "python:3.13.1-alpine3.21"
    """Runs the job's program (standard library only) as user 65534."""
    deadline_seconds: int = Field(3600, ge=60, le=86_400)
    """The job's activeDeadlineSeconds: a run still going then is stopped and fails."""


class VectorSearchSettings(Workload):
    image: Image = "qdrant/qdrant:v1.15.5-unprivileged"
    resources: Resources = default_resources("100m", "256Mi", "1", "1Gi")
    http_port: UnprivilegedPort = 6333
    grpc_port: UnprivilegedPort = 6334
    storage: StorageSettings = StorageSettings()
    snapshots: SnapshotSettings = SnapshotSettings()
    backup: BackupSettings = BackupSettings()

    @model_validator(mode="after")
    def _ports_differ(self) -> Self:
        self._distinct_ports(http_port=self.http_port, grpc_port=self.grpc_port)
        return self

    @model_validator(mode="after")
    def _single_node(self) -> Self:
        # Several replicas of a single-node Qdrant are several databases behind one Service.
        if self.replicas != 1 or self.autoscaling.enabled:
            raise ValueError(
                "replicas must be 1 and autoscaling off: several Qdrant replicas need its "
                "distributed mode, which this program does not configure"
            )
        return self


class McpSettings(Workload):
    image: Image = "mcp/qdrant:0.8.0"
    resources: Resources = default_resources("100m", "256Mi", "1", "1Gi")
    port: UnprivilegedPort = 8000
    collection: CollectionName = "agent-memory"
    embedding_model: ModelId = "sentence-transformers/all-MiniLM-L6-v2"
    """mcp-server-qdrant embeds in-process (fastembed); it cannot call the embedding service."""
    use_embedding_service: bool = False
    """Only for an MCP image that can call the embedding service: allows that flow and passes
    ``EMBEDDING_URL``. Refused with mcp-server-qdrant (the default image), which cannot."""
    read_only: bool = False
    """``QDRANT_READ_ONLY``: mcp-server-qdrant then offers ``qdrant-find`` only, no
    ``qdrant-store``."""
    command: Command = ("mcp-server-qdrant", "--transport", "streamable-http")

    @property
    def runs_mcp_server_qdrant(self) -> bool:
        """The image is mcp/qdrant (from any registry) or the command is mcp-server-qdrant."""
        repository = image_repository(self.image)
        program = self.command[0].rsplit("/", 1)[-1] if self.command else ""
        return (
            repository == "mcp/qdrant"
            or repository.endswith("/mcp/qdrant")
            or program == "mcp-server-qdrant"
        )

    @model_validator(mode="after")
    def _embedding_service_needs_a_server_that_uses_it(self) -> Self:
        # mcp-server-qdrant (0.8.x) embeds only in-process with FastEmbed, names its vectors
        # fast-<model> and has no setting for an external embedding service.
        if self.use_embedding_service and self.runs_mcp_server_qdrant:
            raise ValueError(
                "useEmbeddingService is true, but the MCP server is mcp-server-qdrant "
                f"({self.image}), which embeds only in-process with FastEmbed and cannot use "
                "an embedding service; set image and command to an MCP server that reads "
                "EMBEDDING_URL, or leave useEmbeddingService false"
            )
        return self


class ObservabilitySettings(Model):
    otlp_endpoint: OtlpEndpoint | None = None
    """An OpenTelemetry collector (e.g. http://otel-collector.observability:4318); sets
    OTEL_EXPORTER_OTLP_ENDPOINT on workloads and allows egress to its port."""
    metrics_namespace: KubernetesName | None = "monitoring"
    """Namespace allowed to scrape the workloads' metrics ports (None: nobody). A system
    namespace is allowed here (see RESERVED_NAMESPACES)."""

    @property
    def otlp_url(self) -> str | None:
        return self.otlp_endpoint.url if self.otlp_endpoint else None

    @property
    def otlp_port(self) -> int | None:
        return self.otlp_endpoint.port if self.otlp_endpoint else None


class BudgetSettings(Model):
    """The most the stack's pods may request in total (checked by the render summary)."""

    cpu: CpuQuantity = "2"
    memory: MemoryQuantity = "4Gi"
