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

import contextlib
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
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
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.observability import redact_value
from infra.quantity import millicores, parse_quantity
from infra.url import HttpUrl, parse_http_url

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


IMAGE_REPOSITORY_MAX_LENGTH: Final = 255


def validate_image(reference: str) -> str:
    """Accept only a pinned image: ``repository:tag`` or ``repository:tag@sha256:<digest>``."""
    match = _IMAGE_RE.fullmatch(reference) if isinstance(reference, str) else None
    if match is None:
        raise ValueError(
            f"{reference!r} is not an image reference; expected repository:tag or "
            "repository:tag@sha256:<64 hex digits>"
        )
    if len(match["repository"]) > IMAGE_REPOSITORY_MAX_LENGTH:
        raise ValueError(
            f"image repository is {len(match['repository'])} characters, too long: at most "
            f"{IMAGE_REPOSITORY_MAX_LENGTH} (the registry's limit)"
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


# Upper bounds: far above anything this platform runs, low enough that a typo in a suffix
# (1E for 1Gi, 9999Ei) fails here instead of at the API server or as a claim no node can hold.
MAX_CPU_CORES: Final = 1000
MAX_MEMORY: Final = "4Ti"
MAX_SIZE: Final = "64Ti"


def _validate_cpu(text: str) -> str:
    if millicores(text) <= 0:
        raise ValueError(f"CPU quantity {text!r} must be greater than zero, e.g. 100m or 1")
    if parse_quantity(text) > MAX_CPU_CORES:
        raise ValueError(
            f"CPU quantity {text!r} is too large: at most {MAX_CPU_CORES} cores (e.g. 500m or 2)"
        )
    return text


def _validate_memory(text: str) -> str:
    if parse_quantity(text) < 2**20:
        raise ValueError(f"memory quantity {text!r} is below 1Mi; write it as e.g. 256Mi or 1Gi")
    if parse_quantity(text) > parse_quantity(MAX_MEMORY):
        raise ValueError(
            f"memory quantity {text!r} is too large: at most {MAX_MEMORY} (e.g. 512Mi or 8Gi)"
        )
    return text


def _validate_size(text: str) -> str:
    if parse_quantity(text) <= 0:
        raise ValueError(f"size {text!r} must be greater than zero, e.g. 1Gi")
    if parse_quantity(text) > parse_quantity(MAX_SIZE):
        raise ValueError(f"size {text!r} is too large: at most {MAX_SIZE} (e.g. 1Gi or 20Gi)")
    return text


_NGINX_SIZE_RE: Final = re.compile(r"(?P<number>[0-9]+)(?P<unit>[kKmMgG]?)", re.ASCII)
_NGINX_UNITS: Final = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}
NGINX_SIZE_MIN: Final = 2**10
NGINX_SIZE_MAX: Final = 2**30
_NGINX_MAX_DIGITS: Final = 12  # more is above 1g in any unit (and no int() of a huge text)


def _validate_nginx_size(text: str) -> str:
    """An nginx size for ``client_max_body_size``, between 1k and 1g.

    nginx reads 0 as "no limit" and fails ``nginx -t`` on a number its offset type cannot
    hold, so both are refused here, where the key can be named."""
    match = _NGINX_SIZE_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an nginx size; write e.g. 512k, 1m or 10m")
    digits = match["number"].lstrip("0") or "0"
    size = (
        int(digits) * _NGINX_UNITS[match["unit"].lower()]
        if len(digits) <= _NGINX_MAX_DIGITS
        else 2**64
    )
    if size == 0:
        raise ValueError(
            f"{text!r}: 0 turns the limit off, so any client could send a body of any size; "
            "write a size from 1k to 1g, e.g. 1m"
        )
    if size < NGINX_SIZE_MIN:
        raise ValueError(f"{text!r} is too small: at least 1k (write a size from 1k to 1g)")
    if size > NGINX_SIZE_MAX:
        raise ValueError(
            f"{text!r} is too large: at most 1g (bodies are buffered by the gateway); "
            "write e.g. 4m or 100m"
        )
    return text


# Hugging Face repository ids: owner/name, each at most 96 of letters, digits, '-', '_', '.',
# not starting or ending with '-' or '.', without '--' or '..' (the Hub's own rule).
_HF_NAME: Final = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_HF_MODEL_RE: Final = re.compile(rf"{_HF_NAME}/{_HF_NAME}", re.ASCII)


def _validate_model_id(text: str) -> str:
    if _HF_MODEL_RE.fullmatch(text) is None or "--" in text or ".." in text:
        raise ValueError(
            f"{text!r} is not a Hugging Face model id; write owner/name (each at most 96 of "
            "letters, digits, '-', '_' and '.', no '--' or '..'), "
            "e.g. sentence-transformers/all-MiniLM-L6-v2"
        )
    return text


_K8S_NAME_RE: Final = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def _validate_k8s_name(text: str) -> str:
    if _K8S_NAME_RE.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a Kubernetes name (lowercase DNS-1123 label, ≤ 63)")
    return text


RESERVED_NAMESPACES: Final = frozenset(
    {"default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage"}
)
"""Where the cluster's own components live (``kube-*`` is reserved by Kubernetes as a whole;
``local-path-storage`` holds kind's volume provisioner). The platform's namespace gets Pod
Security "restricted" and a default-deny NetworkPolicy, which would cut them off (CoreDNS for
the whole cluster, in kube-system). ``observability.metricsNamespace`` may name one of them:
it only opens the workloads' metrics ports to scrapers there."""


def _validate_platform_namespace(text: str) -> str:
    if text in RESERVED_NAMESPACES or text.startswith("kube-"):
        raise ValueError(
            f"{text!r} is reserved for the cluster's own components; the platform's namespace "
            "gets Pod Security 'restricted' and a default-deny NetworkPolicy, which would cut "
            "them off. Use a namespace of its own, e.g. agent-platform"
        )
    return text


_DNS_SUBDOMAIN_RE: Final = re.compile(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", re.ASCII
)


DNS_SUBDOMAIN_MAX_LENGTH: Final = 253


def _validate_storage_class(text: str) -> str:
    if len(text) > DNS_SUBDOMAIN_MAX_LENGTH or _DNS_SUBDOMAIN_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text!r} is not a StorageClass name (lowercase DNS-1123 subdomain: a-z, 0-9, '-' "
            "and '.', at most 253); list them with `kubectl get storageclass`"
        )
    return text


# --------------------------------------------------------------------------------------------
# Free text: what each consumer accepts, and never a control character
# --------------------------------------------------------------------------------------------

# A branch, tag or commit as the Hugging Face Hub takes it (`--revision` of TEI): git's
# ref-name rules, narrowed to characters that need no quoting anywhere.
_GIT_REVISION_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}", re.ASCII)


def _validate_git_revision(text: str) -> str:
    if (
        _GIT_REVISION_RE.fullmatch(text) is None
        or ".." in text
        or "//" in text
        or "/." in text
        or text.endswith(("/", ".", ".lock"))
    ):
        raise ValueError(
            f"{text[:60]!r} is not a git revision; use a commit sha (40 hex digits, from the "
            "model page's history) or a branch or tag name such as main or v1.0: at most 200 "
            "of letters, digits and . _ / -, not starting with '-'"
        )
    return text


# Context names are free-form in a kubeconfig; these cover kind-*, gke_*, EKS ARNs, user@name.
_CONTEXT_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:@/+=-]{0,252}", re.ASCII)


def _validate_context(text: str) -> str:
    if _CONTEXT_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text[:60]!r} is not a kubeconfig context name this program takes: 1-253 of "
            "letters, digits and . _ : @ / + = - (starting with a letter, digit or '_'); list "
            "them with `kubectl config get-contexts`, rename one with "
            "`kubectl config rename-context OLD NEW`"
        )
    return text


RENDER_DIRECTORY_MAX_LENGTH: Final = 1024


def _validate_render_directory(text: str) -> str:
    """A path, relative to the project directory or absolute; written as given."""
    if not text:
        raise ValueError("is empty; write a directory, e.g. rendered or /srv/gitops/platform")
    for position, character in enumerate(text, start=1):
        if not character.isprintable():
            raise ValueError(
                f"has a control character ({character!r}) at position {position}; remove it"
            )
    if text != text.strip():
        raise ValueError("starts or ends with a space; remove it")
    if text.startswith("~") or "$" in text:
        raise ValueError(
            "uses '~' or '$', which are not expanded here; write the path out, "
            "e.g. /home/me/gitops/platform"
        )
    if len(text) > RENDER_DIRECTORY_MAX_LENGTH:
        raise ValueError(f"is longer than {RENDER_DIRECTORY_MAX_LENGTH} characters")
    return text


_BUCKET_RE: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)


def _validate_bucket(text: str) -> str:
    if _BUCKET_RE.fullmatch(text) is None or any(bad in text for bad in ("..", ".-", "-.")):
        raise ValueError(
            f"{text[:70]!r} is not an S3 bucket name: 3-63 of a-z, 0-9, '.' and '-', starting "
            "and ending with a letter or digit, no '..'"
        )
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return text
    raise ValueError(f"{text!r} is an IP address, which S3 does not allow as a bucket name")


_REGION_RE: Final = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def _validate_region(text: str) -> str:
    if _REGION_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text[:70]!r} is not a region name: at most 63 of a-z, 0-9 and '-' (not first or "
            "last), e.g. us-east-1 (MinIO: its configured region, us-east-1 by default)"
        )
    return text


COMMAND_MAX_ENTRIES: Final = 64
COMMAND_ENTRY_MAX_LENGTH: Final = 1024


def _validate_command_entry(text: str) -> str:
    """One argument of a container command: passed as is (no shell), so any printable text."""
    if not text:
        raise ValueError("is an empty argument; remove it, or give it a value")
    for position, character in enumerate(text, start=1):
        if not character.isprintable():
            raise ValueError(
                f"has a control character ({character!r}) at position {position}; remove it"
            )
    if len(text) > COMMAND_ENTRY_MAX_LENGTH:
        raise ValueError(f"is longer than {COMMAND_ENTRY_MAX_LENGTH} characters")
    return text


def _validate_command(command: tuple[str, ...]) -> tuple[str, ...]:
    if not command:
        raise ValueError(
            "is empty; give the program and its arguments, "
            "e.g. [mcp-server-qdrant, --transport, streamable-http]"
        )
    if len(command) > COMMAND_MAX_ENTRIES:
        raise ValueError(f"has {len(command)} entries; at most {COMMAND_MAX_ENTRIES}")
    return command


_COLLECTION_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,255}", re.ASCII)


def _validate_collection(text: str) -> str:
    if _COLLECTION_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text[:60]!r} is not a collection name this program takes: 1-255 of letters, "
            "digits, '_' and '-', e.g. agent-memory"
        )
    return text


OTLP_CREDENTIALS: Final = (
    "authenticated export is not supported: the URL is stored and set in every workload in "
    "plain text. Send to a collector in the cluster or on your network that needs no "
    "credentials from the workloads, and let it authenticate onwards (an OpenTelemetry "
    "Collector whose exporter holds them)"
)
SNAPSHOT_CREDENTIALS: Final = (
    "S3 credentials belong in the secrets snapshotAccessKeyId and snapshotSecretAccessKey "
    "(`pulumi config set --secret snapshotAccessKeyId <value>`); give the endpoint without them"
)


def _otlp_endpoint(value: object) -> HttpUrl:
    return parse_http_url(value, credentials=OTLP_CREDENTIALS)


def _snapshot_endpoint(value: object) -> HttpUrl:
    return parse_http_url(value, credentials=SNAPSHOT_CREDENTIALS)


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
PlatformNamespace = Annotated[
    str, AfterValidator(_validate_k8s_name), AfterValidator(_validate_platform_namespace)
]
StorageClassName = Annotated[str, AfterValidator(_validate_storage_class)]
GitRevision = Annotated[str, AfterValidator(_validate_git_revision)]
KubeContext = Annotated[str, AfterValidator(_validate_context)]
RenderDirectory = Annotated[str, AfterValidator(_validate_render_directory)]
BucketName = Annotated[str, AfterValidator(_validate_bucket)]
Region = Annotated[str, AfterValidator(_validate_region)]
CommandEntry = Annotated[str, AfterValidator(_validate_command_entry)]
Command = Annotated[tuple[CommandEntry, ...], AfterValidator(_validate_command)]
"""The MCP server's command line: one program and its arguments, each printable."""
CollectionName = Annotated[str, AfterValidator(_validate_collection)]
"""A Qdrant collection name, with a message that says what to write."""
_URL_SCHEMA: Final = WithJsonSchema({"type": "string", "format": "uri"})
OtlpEndpoint = Annotated[
    HttpUrl, PlainValidator(_otlp_endpoint), PlainSerializer(str, return_type=str), _URL_SCHEMA
]
SnapshotEndpoint = Annotated[
    HttpUrl, PlainValidator(_snapshot_endpoint), PlainSerializer(str, return_type=str), _URL_SCHEMA
]
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
    """Where the gateway's host port listens: loopback only, or every interface (homelab)."""
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
    """1k to 1g; 0 (nginx: no limit) is refused."""
    upstream_timeout_seconds: int = Field(60, ge=1, le=3600)

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
        match = _IMAGE_RE.fullmatch(self.image)
        repository = match["repository"] if match else self.image
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
    cluster: ClusterSettings
    """Always given: STACK_DEFAULTS supply at least its name."""
    namespace: PlatformNamespace = "agent-platform"
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
NULL_MESSAGE: Final = "is empty (null); give it a value, or remove the key to use its default"


def _describe(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    location = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown key; check its spelling against the README's config reference"
    elif error["type"] == "missing":
        message = "required"
    elif "input" in error and error["input"] is None:
        # A YAML key with nothing after it; fields where null means something accept it.
        message = NULL_MESSAGE
    elif not location and (keyed := _KEYED_MESSAGE.fullmatch(message)):
        # A rule across the whole stack names the key to change at the start of its message.
        location, message = tuple(keyed["key"].split(".")), keyed["message"]
    return f"{_format_location(location)}: {message}"


def read_stack_file(stack: str, project_dir: Path) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml`` (empty when there is no such file).

    Raises :class:`ConfigError` naming the file when it is not YAML or not a stack file."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(stack, [f"{path.name}: is not valid YAML{where}"]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(config or {}, dict):
        raise ConfigError(
            stack,
            [
                f"{path.name}: is not a stack file; it must be a mapping with `config:` mapping "
                f"{PROJECT}:<key> to values"
            ],
        )
    return dict(config or {})


def _marked_secret(path: tuple[str | int, ...]) -> str:
    """The problem for a non-secret setting that was set with ``--secret``."""
    key = _format_location(path).removeprefix(f"{PROJECT}:")
    if path == ("namespace",):
        command = f"{key} <value>"
    elif len(path) == 1:
        command = f"--path {key}.<field> <value>"
    else:
        command = f"--path {key} <value>"
    return (
        f"{PROJECT}:{key}: is set as a secret (--secret), but the program uses its value in "
        "plain text (Kubernetes objects, the kind config, stack outputs); set it again without "
        f"--secret (`pulumi config set {command}`), and keep credentials out of it: they "
        "belong in the secret keys listed in the README"
    )


def _secure_paths(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    """Where a stack file holds an encrypted value (``{secure: ...}``) inside ``value``."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            yield path
            return
        for key, item in value.items():
            yield from _secure_paths(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secure_paths(item, (*path, index))


def _redact_leaves(value: Any) -> None:
    """Hand every string inside a secret-marked value to the log redactor."""
    if isinstance(value, str):
        redact_value(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _redact_leaves(item)
    elif isinstance(value, list):
        for item in value:
            _redact_leaves(item)


def _validate(raw: dict[str, Any], problems: list[str]) -> StackSettings | None:
    try:
        return StackSettings.model_validate(raw)
    except ValidationError as error:
        problems += [_describe(item) for item in error.errors()]
        return None


def settings_from_stack_file(stack: str, project_dir: Path) -> StackSettings:
    """The non-secret settings of a stack, for tools that run outside ``pulumi`` (preflight).

    Raises :class:`StackError` or :class:`ConfigError` like :func:`load`.
    """
    supported = check_stack(stack)
    prefix = f"{PROJECT}:"
    raw: dict[str, Any] = {"stack": supported}
    problems: list[str] = []
    for key, value in read_stack_file(stack, project_dir).items():
        name = key.removeprefix(prefix)
        if not key.startswith(prefix) or name not in CONFIG_KEYS:
            continue
        # An encrypted value cannot be read here, and the program would refuse it anyway.
        marked = list(_secure_paths(value, (name,)))
        if marked:
            problems += [_marked_secret(path) for path in marked]
        else:
            raw[name] = value
    settings = _validate(raw, problems)
    if problems or settings is None:
        raise ConfigError(stack, problems)
    return settings


def _config_value(key: str, text: str) -> Any:
    """A config value as the engine passed it: objects as JSON, a YAML null as "null" (or ""
    from older engines), which both become ``None`` so validation names the key."""
    if text in ("", "null"):
        return None
    if key in OBJECT_KEYS:
        return json.loads(text)
    return text


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
        full_key = config.full_key(key)
        text = runtime_config.get_config(full_key)
        if text is None:
            continue
        if runtime_config.is_config_secret(full_key):
            # Every value here ends up in plain text (Kubernetes objects, env, outputs), so a
            # value set with --secret is refused, unread, and kept out of every log line.
            with contextlib.suppress(ValueError):
                _redact_leaves(json.loads(str(text)))
            redact_value(str(text))
            problems.append(_marked_secret((key,)))
            continue
        try:
            raw[key] = _config_value(key, str(text))
        except ValueError:
            problems.append(f"{PROJECT}:{key}: is not a valid object; see the README")

    unknown = _project_keys_in_config() - set(CONFIG_KEYS) - set(SECRET_KEYS)
    problems += [
        f"{PROJECT}:{key}: unknown key; the supported keys are listed in the README"
        for key in sorted(unknown)
    ]

    settings = _validate(raw, problems)

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
