"""The settings models of the cluster and of each workload: frozen pydantic models, strict
about keys, camelCase in YAML, with the rules that span several of their fields."""

from __future__ import annotations

import re
from typing import Final, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.quantity import millicores, parse_quantity
from infra.settings.names import ClusterName, KubernetesName, ModelId, StorageClassName
from infra.settings.text import (
    BucketName,
    CollectionName,
    Command,
    GitRevision,
    KubeContext,
    Region,
    RenderDirectory,
)
from infra.settings.values import (
    CertificateChain,
    CpuQuantity,
    DnsName,
    Image,
    IpAddress,
    MemoryQuantity,
    NginxSize,
    OtlpEndpoint,
    Port,
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


class Workload(Model):
    """What every component shares; each component model adds what is special to it."""

    image: Image
    replicas: int = Field(1, ge=1, le=50)
    resources: Resources
    autoscaling: Autoscaling = Autoscaling()

    def _distinct_ports(self, **ports: int) -> None:
        seen: dict[int, str] = {}
        for name, number in ports.items():
            if number in seen:
                raise ValueError(
                    f"{to_camel(seen[number])} and {to_camel(name)} are both {number}; "
                    "each port of a component must differ"
                )
            seen[number] = name


def _small(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> Resources:
    return Resources(
        requests=Quantities(cpu=cpu, memory=memory),
        limits=Quantities(cpu=cpu_limit, memory=memory_limit),
    )


class RateLimit(Model):
    requests_per_second: int = Field(10, ge=1, le=100_000)
    burst: int = Field(20, ge=0, le=100_000)


class GatewayTls(Model):
    """``gateway.tls``: HTTPS on the gateway's port, with a certificate the program makes
    (``generated``: a local CA, kept in the Pulumi state, signs the server's certificate) or
    one the user provides (``provided``: the chain here, the key in the secret
    ``gatewayTlsKey``). Plain HTTP on that port is refused, never redirected."""

    mode: Literal["off", "provided", "generated"] = "off"
    certificate: CertificateChain | None = None
    """``provided``: the PEM chain, the server's certificate first (public, so plain config)."""
    dns_names: tuple[DnsName, ...] = Field((), max_length=50)
    """``generated``: names clients use (besides localhost and the in-cluster Service names,
    which the certificate always covers)."""
    ip_addresses: tuple[IpAddress, ...] = Field((), max_length=50)
    """``generated``: addresses clients use (besides 127.0.0.1 and ::1)."""
    validity_days: int = Field(365, ge=7, le=825)
    """``generated``: how long the server certificate is valid (825 days: the most Apple's
    clients accept from a private CA)."""
    renew_before_days: int = Field(30, ge=1, le=365)
    """``generated``: a ``pulumi up`` this close to expiry issues a new server certificate."""

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @model_validator(mode="after")
    def _fields_of_the_mode(self) -> Self:
        if self.mode == "provided" and self.certificate is None:
            raise ValueError(
                "mode is provided but no certificate is set; set certificate to the PEM chain "
                "(the server's certificate first) and the key with "
                "`pulumi config set --secret gatewayTlsKey < key.pem`"
            )
        if self.mode != "provided" and self.certificate is not None:
            raise ValueError(
                f"certificate is set but mode is {self.mode}; set mode: provided to serve it, "
                "or remove it"
            )
        if self.mode != "generated" and (self.dns_names or self.ip_addresses):
            raise ValueError(
                f"dnsNames and ipAddresses are what a generated certificate covers, but mode is "
                f"{self.mode}; set mode: generated, or remove them"
            )
        if self.renew_before_days >= self.validity_days:
            raise ValueError(
                f"renewBeforeDays {self.renew_before_days} is not less than validityDays "
                f"{self.validity_days}; every run would issue a new certificate"
            )
        return self


class GatewaySettings(Workload):
    image: Image = "nginxinc/nginx-unprivileged:1.28.0-alpine"
    resources: Resources = _small("50m", "32Mi", "500m", "128Mi")
    port: UnprivilegedPort = 8080
    """Container port (the unprivileged image cannot bind below 1024)."""
    service_port: Port = 80
    node_port: int = Field(30080, ge=30000, le=32767)
    """The kind node port that the host port maps to (studio/homelab on kind)."""
    rate_limit: RateLimit = RateLimit()
    max_body_size: NginxSize = "1m"
    """1k to 1g; 0 (nginx: no limit) is refused."""
    upstream_timeout_seconds: int = Field(60, ge=1, le=3600)
    tls: GatewayTls = GatewayTls()

    @model_validator(mode="after")
    def _ports_differ(self) -> Self:
        self._distinct_ports(port=self.port, service_port=self.service_port)
        return self


class EmbeddingSettings(Workload):
    image: Image = "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8"
    resources: Resources = _small("250m", "512Mi", "2", "1Gi")
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


class VectorSearchSettings(Workload):
    image: Image = "qdrant/qdrant:v1.15.5-unprivileged"
    resources: Resources = _small("100m", "256Mi", "1", "1Gi")
    http_port: UnprivilegedPort = 6333
    grpc_port: UnprivilegedPort = 6334
    storage: StorageSettings = StorageSettings()
    snapshots: SnapshotSettings = SnapshotSettings()

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
    resources: Resources = _small("100m", "256Mi", "1", "1Gi")
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
