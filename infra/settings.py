"""Stack settings: one frozen pydantic model per stack, read once from ``pulumi.Config``.

Everything the program is told by a stack (``Pulumi.<stack>.yaml``) passes through here and
nowhere else: components receive typed slices of :class:`StackSettings` and never read config.
Validation runs before any resource is registered and reports *every* problem at once, each
with its full config key (``agent-platform:gateway.replicas``) and what is expected.

Secret values (tokens, API keys, kubeconfig) are not part of the pydantic model: they stay
``pulumi.Output`` secrets in :class:`StackSecrets`; the loader only checks that they are present
and were set with ``--secret``, and hands their plaintext to the log redactor (never to a log).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.observability import redact_value
from infra.quantity import millicores, parse_quantity

PROJECT: Final = "agent-platform"
SUPPORTED_STACKS: Final = ("studio", "homelab")

# --------------------------------------------------------------------------------------------
# Cluster names
# --------------------------------------------------------------------------------------------

CLUSTER_NAME_MAX_LENGTH: Final = 40
"""kind names node containers ``<name>-control-plane``, ``<name>-worker<N>`` and, with several
control planes, ``<name>-external-load-balancer`` (23 characters). Those names become container
hostnames and Kubernetes node names, which must be RFC 1123 labels of at most 63 characters:
63 - 23 = 40. The same bound keeps the kubeconfig context ``kind-<name>`` short and safe."""

CLUSTER_NAME_PATTERN: Final = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
"""A lowercase RFC 1123 (DNS-1123) label: starts and ends alphanumeric, so never with ``-``
(a leading hyphen would be read as an option by kind, docker and kubectl). ASCII only.
``scripts/lib/validate.sh`` applies the same rule; a test keeps the two in agreement."""

_CLUSTER_NAME_RE: Final = re.compile(CLUSTER_NAME_PATTERN, re.ASCII)


def validate_cluster_name(name: str) -> str:
    """Return ``name`` if kind, docker and kubeconfig can all use it safely; raise otherwise."""
    if not isinstance(name, str) or not name:
        raise ValueError("cluster name is empty; use a lowercase name such as 'studio'")
    if len(name) > CLUSTER_NAME_MAX_LENGTH:
        raise ValueError(
            f"cluster name {name!r} is {len(name)} characters; at most "
            f"{CLUSTER_NAME_MAX_LENGTH} are allowed (kind node names must stay within 63)"
        )
    if name.startswith("-"):
        raise ValueError(
            f"cluster name {name!r} starts with '-', which tools would read as an option; "
            "start it with a lowercase letter or digit"
        )
    if _CLUSTER_NAME_RE.fullmatch(name) is None:
        raise ValueError(
            f"cluster name {name!r} is not a lowercase DNS-1123 label; use only a-z, 0-9 and "
            f"'-' (not first or last), matching {CLUSTER_NAME_PATTERN}"
        )
    return name


ClusterName = Annotated[str, AfterValidator(validate_cluster_name)]

# --------------------------------------------------------------------------------------------
# Images, quantities, ports
# --------------------------------------------------------------------------------------------

_IMAGE_RE: Final = re.compile(
    r"(?P<repository>(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?",
    re.ASCII,
)


def validate_image(reference: str) -> str:
    """Accept only a pinned image: ``repository:tag`` or ``repository:tag@sha256:<digest>``."""
    match = _IMAGE_RE.fullmatch(reference) if isinstance(reference, str) else None
    if match is None:
        raise ValueError(
            f"{reference!r} is not an image reference; expected repository:tag or "
            "repository:tag@sha256:<64 hex digits>"
        )
    if match["tag"] is None:
        raise ValueError(
            f"image {reference!r} has no tag; pin it, e.g. {match['repository']}:1.2.3 "
            "(add @sha256:<digest> to pin it fully)"
        )
    if match["tag"] == "latest":
        raise ValueError(
            f"image {reference!r} uses 'latest', which changes under a running stack; "
            "pin a version tag (and a digest where you can)"
        )
    return reference


def _validate_cpu(text: str) -> str:
    if millicores(text) <= 0:
        raise ValueError(f"CPU quantity {text!r} must be greater than zero, e.g. 100m or 1")
    return text


def _validate_memory(text: str) -> str:
    if parse_quantity(text) < 2**20:
        raise ValueError(f"memory quantity {text!r} is below 1Mi; write it as e.g. 256Mi or 1Gi")
    return text


def _validate_size(text: str) -> str:
    if parse_quantity(text) <= 0:
        raise ValueError(f"size {text!r} must be greater than zero, e.g. 1Gi")
    return text


_NGINX_SIZE_RE: Final = re.compile(r"[0-9]+[kKmMgG]?")


def _validate_nginx_size(text: str) -> str:
    if _NGINX_SIZE_RE.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not an nginx size; write e.g. 512k, 1m or 10m")
    return text


_HF_MODEL_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")


def _validate_model_id(text: str) -> str:
    if _HF_MODEL_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text!r} is not a Hugging Face model id; write owner/name, "
            "e.g. sentence-transformers/all-MiniLM-L6-v2"
        )
    return text


_K8S_NAME_RE: Final = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def _validate_k8s_name(text: str) -> str:
    if _K8S_NAME_RE.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a Kubernetes name (lowercase DNS-1123 label, ≤ 63)")
    return text


def _number_as_text(value: Any) -> Any:
    # YAML reads `cpu: 1` as an int; Kubernetes accepts it as the quantity "1".
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Image = Annotated[str, AfterValidator(validate_image)]
CpuQuantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_validate_cpu)]
MemoryQuantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_validate_memory)]
SizeQuantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_validate_size)]
NginxSize = Annotated[str, AfterValidator(_validate_nginx_size)]
ModelId = Annotated[str, AfterValidator(_validate_model_id)]
KubernetesName = Annotated[str, AfterValidator(_validate_k8s_name)]
Port = Annotated[int, Field(ge=1, le=65535)]
UnprivilegedPort = Annotated[int, Field(ge=1024, le=65535)]


TOKEN_PATTERN: Final = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
"""Tokens and API keys: RFC 6750 bearer characters (safe inside the gateway's nginx config and
an HTTP header), at least 16 of them."""


def check_token(value: str, key: str) -> str:
    if TOKEN_PATTERN.fullmatch(value) is None:
        raise ValueError(
            f"{key} must be at least 16 characters of A-Z a-z 0-9 . _ ~ + / = - "
            "(e.g. `openssl rand -hex 32`)"
        )
    return value


class Model(BaseModel):
    """Base for every settings model: frozen, strict about keys, camelCase in YAML."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
    )


# --------------------------------------------------------------------------------------------
# Cluster
# --------------------------------------------------------------------------------------------

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

    name: ClusterName | None = None
    """Defaults to the stack name."""
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
    """Where the gateway's host port listens: loopback only, or every interface (homelab)."""
    registry: LocalRegistry = LocalRegistry()
    install_metrics_server: bool = False
    """kind only: install metrics-server, which HorizontalPodAutoscalers need (kind has none).
    Defaults per stack: homelab (autoscaling on) installs it, studio does not."""
    context: str | None = None
    """For ``target: existing``: the kubeconfig context to use (default: its current context)."""
    render_directory: str = "rendered"
    """For ``target: render``: where ``pulumi up`` writes manifests (one folder per stack)."""

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


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------


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
    upstream_timeout_seconds: int = Field(60, ge=1, le=3600)

    @model_validator(mode="after")
    def _ports_differ(self) -> Self:
        self._distinct_ports(port=self.port, service_port=self.service_port)
        return self


class EmbeddingSettings(Workload):
    image: Image = "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8"
    resources: Resources = _small("250m", "512Mi", "2", "1Gi")
    model: ModelId = "sentence-transformers/all-MiniLM-L6-v2"
    revision: str | None = None
    """A model revision (commit) to pin the weights; default: the model's main branch."""
    port: UnprivilegedPort = 8080
    cache_size: SizeQuantity = "2Gi"
    startup_timeout_seconds: int = Field(600, ge=30, le=3600)
    """How long the startup probe waits for the model download and load."""


class StorageSettings(Model):
    size: SizeQuantity = "1Gi"
    storage_class: KubernetesName | None = None
    """Default: the cluster's default StorageClass (kind: ``standard``, local-path)."""
    protect: bool = True
    """Pulumi ``protect`` on the data volume: destroy and replacement fail until it is lifted
    (README: "Deleting vector data on purpose"). Defaults per stack: homelab on, studio off."""


class SnapshotSettings(Model):
    """Qdrant snapshots on S3-compatible object storage (credentials are secrets)."""

    enabled: bool = False
    bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    endpoint: str | None = Field(None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    region: str = Field("us-east-1", pattern=r"^[a-z0-9-]+$")

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
    collection: str = Field("agent-memory", pattern=r"^[A-Za-z0-9_-]{1,255}$")
    embedding_model: ModelId = "sentence-transformers/all-MiniLM-L6-v2"
    """mcp-server-qdrant embeds in-process (fastembed); it cannot call the embedding service."""
    use_embedding_service: bool = False
    """Only for an MCP image that can call the embedding service: allows that flow and passes
    ``EMBEDDING_URL``. The default image cannot (see the README)."""
    command: tuple[str, ...] = ("mcp-server-qdrant", "--transport", "streamable-http")


class ObservabilitySettings(Model):
    otlp_endpoint: str | None = Field(None, pattern=r"^https?://[^\s/]+(:[0-9]+)?/?$")
    """An OpenTelemetry collector (e.g. http://otel-collector.observability:4318); sets
    OTEL_EXPORTER_OTLP_ENDPOINT on workloads and allows egress to its port."""
    metrics_namespace: KubernetesName | None = "monitoring"
    """Namespace allowed to scrape the workloads' metrics ports (None: nobody)."""

    @property
    def otlp_port(self) -> int | None:
        if self.otlp_endpoint is None:
            return None
        match = re.search(r":(\d+)/?$", self.otlp_endpoint.split("://", 1)[1])
        if match:
            return int(match[1])
        return 443 if self.otlp_endpoint.startswith("https") else 80


class BudgetSettings(Model):
    """The most the stack's pods may request in total (checked by the render summary)."""

    cpu: CpuQuantity = "2"
    memory: MemoryQuantity = "4Gi"


# --------------------------------------------------------------------------------------------
# The stack
# --------------------------------------------------------------------------------------------

STACK_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "studio": {
        "cluster": {"name": "studio", "deleteOnDestroy": True},
        "vectorSearch": {"storage": {"protect": False}},
    },
    "homelab": {
        "cluster": {"name": "homelab", "deleteOnDestroy": False, "installMetricsServer": True},
        "vectorSearch": {"storage": {"protect": True}},
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

    stack: Literal["studio", "homelab"]
    cluster: ClusterSettings = ClusterSettings()
    namespace: KubernetesName = "agent-platform"
    gateway: GatewaySettings = GatewaySettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    vector_search: VectorSearchSettings = VectorSearchSettings()
    mcp: McpSettings = McpSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    budget: BudgetSettings = BudgetSettings()

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

    @property
    def cluster_name(self) -> str:
        assert self.cluster.name is not None  # set by the validator above  # noqa: S101
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
    "snapshotAccessKeyId",
    "snapshotSecretAccessKey",
    "kubeconfig",
)


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values as Pulumi secret Outputs; ``None`` where the stack needs none."""

    gateway_token: pulumi.Output[str]
    vector_search_api_key: pulumi.Output[str]
    snapshot_access_key_id: pulumi.Output[str] | None = None
    snapshot_secret_access_key: pulumi.Output[str] | None = None
    kubeconfig: pulumi.Output[str] | None = None


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class StackError(pulumi.RunError):
    """The selected stack is not one this program supports."""


class ConfigError(pulumi.RunError):
    """Stack config is invalid; the message lists every problem with its config key."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"stack {stack!r} has {len(problems)} invalid setting(s):\n{listing}\n"
            f"Fix them in Pulumi.{stack}.yaml (or with `pulumi config set`) and run again."
        )


def check_stack(stack: str) -> Literal["studio", "homelab"]:
    if stack == "studio":
        return "studio"
    if stack == "homelab":
        return "homelab"
    raise StackError(
        f"stack {stack!r} is not supported; this program deploys only the stacks "
        f"{', '.join(SUPPORTED_STACKS)}. Select one with `pulumi stack select studio` "
        "(or create it with `pulumi stack init homelab`)."
    )


def _project_keys_in_config() -> set[str]:
    """Every ``agent-platform:*`` key the engine passed, to catch typos in key names."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}


def _format_location(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return f"{PROJECT}:{path}"


_KEYED_MESSAGE: Final = re.compile(r"(?P<key>[a-z][A-Za-z.]*): (?P<message>.+)", re.DOTALL)


def _describe(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    location = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown key; check its spelling against the README's config reference"
    elif error["type"] == "missing":
        message = "required"
    elif not location and (keyed := _KEYED_MESSAGE.fullmatch(message)):
        # A rule across the whole stack names the key to change at the start of its message.
        location, message = tuple(keyed["key"].split(".")), keyed["message"]
    return f"{_format_location(location)}: {message}"


def read_stack_file(stack: str, project_dir: Path) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml`` (empty when there is no such file)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})


def settings_from_stack_file(stack: str, project_dir: Path) -> StackSettings:
    """The non-secret settings of a stack, for tools that run outside ``pulumi`` (preflight).

    Raises :class:`StackError` or :class:`ConfigError` like :func:`load`.
    """
    supported = check_stack(stack)
    prefix = f"{PROJECT}:"
    raw: dict[str, Any] = {"stack": supported}
    for key, value in read_stack_file(stack, project_dir).items():
        name = key.removeprefix(prefix)
        if key.startswith(prefix) and name in CONFIG_KEYS:
            raw[name] = value
    try:
        return StackSettings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(stack, [_describe(item) for item in error.errors()]) from error


def load(stack: str, config: pulumi.Config | None = None) -> tuple[StackSettings, StackSecrets]:
    """Read, validate and return the settings and secrets of ``stack``.

    Raises :class:`StackError` for an unsupported stack and :class:`ConfigError` listing every
    invalid setting. Registers no resource.
    """
    supported = check_stack(stack)
    config = config or pulumi.Config(PROJECT)
    problems: list[str] = []

    raw: dict[str, Any] = {"stack": supported}
    for key in CONFIG_KEYS:
        if key not in OBJECT_KEYS:
            value: Any = config.get(key)
        else:
            try:
                value = config.get_object(key)
            except Exception:  # noqa: BLE001 (the config API raises several types for bad JSON)
                problems.append(f"{PROJECT}:{key}: is not a valid object; see the README")
                continue
        if value is not None:
            raw[key] = value

    unknown = _project_keys_in_config() - set(CONFIG_KEYS) - set(SECRET_KEYS)
    problems += [
        f"{PROJECT}:{key}: unknown key; the supported keys are listed in the README"
        for key in sorted(unknown)
    ]

    settings: StackSettings | None = None
    try:
        settings = StackSettings.model_validate(raw)
    except ValidationError as error:
        problems += [_describe(item) for item in error.errors()]

    secrets, secret_problems = _load_secrets(config, settings)
    problems += secret_problems
    if problems or settings is None or secrets is None:
        raise ConfigError(stack, problems)
    return settings, secrets


def _load_secrets(
    config: pulumi.Config, settings: StackSettings | None
) -> tuple[StackSecrets | None, list[str]]:
    problems: list[str] = []

    def secret(
        key: str, why: str, required: bool, token: bool = False
    ) -> pulumi.Output[str] | None:
        full_key = config.full_key(key)
        plaintext = runtime_config.get_config(full_key)
        if plaintext is None or plaintext == "":
            if required:
                problems.append(
                    f"{full_key}: required ({why}); set it with "
                    f"`pulumi config set --secret {key} <value>`"
                )
            return None
        if not runtime_config.is_config_secret(full_key):
            problems.append(
                f"{full_key}: is stored in plain text; set it again with "
                f"`pulumi config set --secret {key} <value>` so it stays encrypted"
            )
            return None
        redact_value(str(plaintext))
        if token:
            try:
                check_token(str(plaintext), key)
            except ValueError as error:
                problems.append(f"{full_key}: {error}")
                return None
        return pulumi.Output.secret(str(plaintext))

    target = settings.cluster.target if settings else "kind"
    snapshots = settings is not None and settings.vector_search.snapshots.enabled
    gateway_token = secret("gatewayToken", "the gateway's bearer token", required=True, token=True)
    api_key = secret("vectorSearchApiKey", "the vector search API key", required=True, token=True)
    access_key = secret(
        "snapshotAccessKeyId", "vectorSearch.snapshots.enabled is true", required=snapshots
    )
    secret_key = secret(
        "snapshotSecretAccessKey", "vectorSearch.snapshots.enabled is true", required=snapshots
    )
    kubeconfig = secret("kubeconfig", "cluster.target is existing", required=target == "existing")
    if problems or gateway_token is None or api_key is None:
        return None, problems
    return (
        StackSecrets(
            gateway_token=gateway_token,
            vector_search_api_key=api_key,
            snapshot_access_key_id=access_key,
            snapshot_secret_access_key=secret_key,
            kubeconfig=kubeconfig,
        ),
        problems,
    )
