"""Values with a unit or a shape: pinned images, CPU/memory/size quantities, nginx sizes,
ports, HTTP endpoints (parsed once, see :mod:`infra.settings.url`) and tokens. The gateway's TLS
material (certificate names, PEM chain and key) is :mod:`infra.settings.tls`."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)

from infra.quantity import millicores, parse_quantity
from infra.settings.url import HttpUrl, parse_http_url

_IMAGE_RE: Final = re.compile(
    r"(?P<repository>(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?",
    re.ASCII,
)


IMAGE_REPOSITORY_MAX_LENGTH: Final = 255


def image_repository(reference: str) -> str:
    """The repository part of an image reference (``ghcr.io/x/y`` of ``ghcr.io/x/y:1@sha...``)."""
    match = _IMAGE_RE.fullmatch(reference)
    return match["repository"] if match else reference


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
