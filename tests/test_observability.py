"""Logs, redaction, traces and phase errors of the program."""

from __future__ import annotations

import io
import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infra import observability
from infra.observability import REDACTED, PhaseError, configure_logging, get_logger, phase
from tests.conftest import GATEWAY_TOKEN, QDRANT_API_KEY, Deploy


def log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_logs_are_json_lines_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(stream)
    get_logger(stack="studio").info("hello", cluster="studio")

    [line] = log_lines(stream)
    assert line["event"] == "hello"
    assert line["stack"] == "studio"
    assert line["cluster"] == "studio"
    assert line["level"] == "info"


def test_logs_are_readable_text_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    configure_logging(stream)
    get_logger().info("hello", cluster="studio")

    assert "hello" in stream.getvalue()
    assert "cluster=studio" in stream.getvalue()
    with pytest.raises(json.JSONDecodeError):
        json.loads(stream.getvalue())


def test_known_secret_values_never_reach_a_log_line(deploy: Deploy) -> None:
    deploy("studio")  # loading settings registers the secrets with the redactor
    stream = io.StringIO()
    configure_logging(stream)

    log = get_logger()
    log.info(f"token is {GATEWAY_TOKEN}", detail={"nested": [QDRANT_API_KEY]})
    log.info("headers", authorization=f"Bearer {GATEWAY_TOKEN}", api_key="anything")

    text = stream.getvalue()
    assert GATEWAY_TOKEN not in text
    assert QDRANT_API_KEY not in text
    first, second = log_lines(stream)
    assert first["event"] == f"token is {REDACTED}"
    assert first["detail"] == {"nested": [REDACTED]}
    assert second["authorization"] == REDACTED
    assert second["api_key"] == REDACTED


def test_program_logs_each_phase_with_stack_and_cluster(deploy: Deploy) -> None:
    stream = io.StringIO()
    configure_logging(stream)
    deploy("homelab")

    lines = log_lines(stream)
    finished = [line for line in lines if line["event"] == "phase finished"]
    assert [line["phase"] for line in finished][:3] == ["settings", "cluster", "provider"]
    cluster_line = next(line for line in finished if line["phase"] == "cluster")
    assert cluster_line["stack"] == "homelab"
    assert cluster_line["cluster"] == "homelab"
    assert cluster_line["resource"] == "homelab"
    assert GATEWAY_TOKEN not in stream.getvalue()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # The global provider can be set once per process; phases look it up through the proxy.
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE._done = False
    trace.set_tracer_provider(provider)
    return exporter


def test_each_phase_is_a_span(deploy: Deploy, spans: InMemorySpanExporter) -> None:
    deploy("studio")

    names = [span.name for span in spans.get_finished_spans()]
    assert names[:3] == ["settings", "cluster", "provider"]
    cluster = next(s for s in spans.get_finished_spans() if s.name == "cluster")
    assert cluster.attributes is not None
    assert cluster.attributes["agent_platform.resource"] == "studio"


def test_failure_names_the_phase_and_resource_and_marks_the_span(
    spans: InMemorySpanExporter,
) -> None:
    observability.redact_value(GATEWAY_TOKEN)
    with (
        pytest.raises(PhaseError, match="phase 'cluster', resource 'lab' failed") as raised,
        phase("cluster", resource="lab"),
    ):
        raise RuntimeError(f"kind exploded near {GATEWAY_TOKEN}")

    assert GATEWAY_TOKEN not in str(raised.value)
    [span] = spans.get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "RuntimeError"
    assert event.attributes["exception.message"] == f"kind exploded near {REDACTED}"
    assert all(GATEWAY_TOKEN not in str(value) for value in event.attributes.values())


def test_tracing_is_a_no_op_without_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE._done = False
    observability.configure_tracing()

    assert not isinstance(trace.get_tracer_provider(), TracerProvider)


def test_tracing_exports_over_otlp_when_an_endpoint_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE._done = False
    observability.configure_tracing()

    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    processors = provider._active_span_processor._span_processors
    assert type(processors[0].span_exporter).__name__ == "OTLPSpanExporter"  # type: ignore[attr-defined]
    provider.shutdown()
