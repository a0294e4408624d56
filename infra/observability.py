"""Logs and traces of the program itself (not of the workloads it deploys).

- structlog, configured once: JSON lines when stderr is not a terminal (CI, ``pulumi up`` piped
  to a file), a readable console format otherwise. Logs go to stderr, which the Pulumi engine
  shows as diagnostics.
- A redaction processor: every secret config value is registered here when settings are loaded,
  and any log field that contains one, or whose key names a secret, is replaced before output.
- OpenTelemetry spans around each phase (settings, cluster, provider, each component), exported
  over OTLP/HTTP when the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, and a no-op otherwise.
  Spans time the *registration* of resources by the program; the engine applies them later.
- :func:`phase` wraps a phase: it logs start and end with stack, cluster and resource context,
  and re-raises any failure as :class:`PhaseError` naming the phase and the resource.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Final, TextIO

import pulumi
import structlog
from opentelemetry import trace

REDACTED: Final = "[REDACTED]"
_SECRET_KEY_RE: Final = re.compile(
    r"(token|secret|password|passwd|api[_-]?key|authorization|kubeconfig|credential)", re.I
)
_MIN_REDACTED_LENGTH: Final = 4
"""Shorter values would redact ordinary words; secrets that short are rejected anyway."""

_secret_values: set[str] = set()
_lock = threading.Lock()
_configured = False


def redact_value(value: str) -> None:
    """Register a secret's plaintext so that no log line ever shows it."""
    if len(value) >= _MIN_REDACTED_LENGTH:
        with _lock:
            _secret_values.add(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _secret_values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {key: _scrub_field(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(item) for item in value)
    if isinstance(value, pulumi.Output):
        # An Output's value is unknown here; its repr is harmless but useless in a log.
        return "<output>"
    return value


def _scrub_field(key: Any, value: Any) -> Any:
    if isinstance(key, str) and _SECRET_KEY_RE.search(key) and value not in (None, ""):
        return REDACTED
    return _scrub(value)


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace secret values and secret-named fields."""
    for key in list(event_dict):
        event_dict[key] = _scrub_field(key, event_dict[key])
    return event_dict


def configure_logging(
    stream: TextIO | None = None, *, json: bool | None = None, level: int = logging.INFO
) -> None:
    """Configure structlog for the process: where to, in which format, from which level up.
    Later calls replace the earlier configuration."""
    global _configured  # noqa: PLW0603 (logging is process-wide by nature)
    stream = stream or sys.stderr
    use_json = (not stream.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,  # last before rendering, so nothing added later escapes it
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    _configured = True


def ensure_logging() -> None:
    """Configure logging with the defaults unless something (a test, a caller) already did."""
    if not _configured:
        configure_logging()


def get_logger(**context: Any) -> Any:
    ensure_logging()
    return structlog.get_logger("agent-platform").bind(**context)


def configure_tracing(service_name: str = "agent-platform") -> trace.Tracer:
    """Install an OTLP exporter when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; else stay no-op."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return trace.get_tracer("agent-platform")
    # Imported only when used: the SDK and the exporter (protobuf, requests) cost every run
    # without tracing about 50 ms (scripts/benchmark).
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        # The engine ends the program when its event loop finishes: flush what is buffered.
        atexit.register(provider.shutdown)
    return trace.get_tracer("agent-platform")


class PhaseError(pulumi.RunError):
    """A phase of the program failed; the message names the phase and the resource."""

    def __init__(self, phase: str, resource: str | None, cause: BaseException) -> None:
        self.phase = phase
        self.resource = resource
        where = f"phase {phase!r}" + (f", resource {resource!r}" if resource else "")
        super().__init__(f"{where} failed: {_scrub(str(cause))}")


def _record_failure(span: trace.Span, error: BaseException) -> None:
    span.add_event(
        "exception",
        {"exception.type": type(error).__name__, "exception.message": _scrub(str(error))},
    )
    span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))


@contextmanager
def phase(name: str, *, resource: str | None = None, **context: Any) -> Iterator[Any]:
    """Run one phase of the program inside a span and a log context.

    Errors that already explain themselves to the user (``pulumi.RunError``: bad stack, bad
    config) pass through unchanged; anything else is re-raised naming the phase and resource.
    """
    log = get_logger(phase=name, resource=resource, **context)
    tracer = trace.get_tracer("agent-platform")
    attributes = {f"agent_platform.{key}": str(value) for key, value in context.items()}
    if resource:
        attributes["agent_platform.resource"] = resource
    # record_exception=False: the SDK would export the raw message and traceback; the span gets
    # a redacted copy instead (_record_failure), like the log line.
    with tracer.start_as_current_span(
        name, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        log.info("phase started")
        try:
            yield log
        except pulumi.RunError as error:
            _record_failure(span, error)
            # Expected, self-explaining errors (bad stack or config): no traceback.
            log.error("phase failed", error=str(error))  # noqa: TRY400
            raise
        except Exception as error:
            _record_failure(span, error)
            log.exception("phase failed", error=str(error), error_type=type(error).__name__)
            raise PhaseError(name, resource, error) from error
        log.info("phase finished")
