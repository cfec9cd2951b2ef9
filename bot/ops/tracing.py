"""OpenTelemetry for the pipelines: Haystack's tracing hooks give a span per pipeline run and per
component (with timings), sent over OTLP/HTTP to the collector operators already run.

Haystack puts a pipeline's input data on its span as an ordinary tag, which would carry every
question (and every uploaded document) to the collector. The guard below drops it, and every content
tag, unless `server.log_message_text` is on; long values are cut either way.
Needs the `tracing` extra (opentelemetry-haystack, the OTLP exporter).
"""

# Imports inside functions: OpenTelemetry is the optional `tracing` extra, loaded only when
# server.tracing.endpoint is set.

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from haystack.tracing.tracer import Span, Tracer, disable_tracing, enable_tracing
from haystack.tracing.utils import coerce_tag_value

CONTENT_TAGS = frozenset({"haystack.pipeline.input_data", "haystack.pipeline.output_data",
                          "haystack.component.input", "haystack.component.output"})
MAX_TAG_CHARS = 4096


class TracingUnavailable(RuntimeError):
    """server.tracing is set but the tracing extra is not installed (the message says how to fix it)."""


class _GuardedSpan(Span):
    def __init__(self, inner: Span, content: bool) -> None:
        self.inner = inner
        self.content = content

    def set_tag(self, key: str, value: Any) -> None:
        if key in CONTENT_TAGS and not self.content:
            return
        coerced = coerce_tag_value(value)
        if isinstance(coerced, str) and len(coerced) > MAX_TAG_CHARS:
            coerced = coerced[:MAX_TAG_CHARS] + "…"
        self.inner.set_tag(key, coerced)

    def set_content_tag(self, key: str, value: Any) -> None:
        if self.content:
            self.set_tag(key, value)

    def raw_span(self) -> Any:
        return self.inner.raw_span()

    def get_correlation_data_for_logs(self) -> dict[str, Any]:
        return self.inner.get_correlation_data_for_logs()


class GuardedTracer(Tracer):
    """Another tracer's spans, without message text unless `content`."""

    def __init__(self, inner: Tracer, content: bool) -> None:
        self.inner = inner
        self.content = content

    @contextlib.contextmanager
    def trace(self, operation_name: str, tags: dict[str, Any] | None = None,
              parent_span: Span | None = None) -> Iterator[Span]:
        with self.inner.trace(operation_name, parent_span=parent_span) as span:
            guarded = _GuardedSpan(span, self.content)
            if tags:
                guarded.set_tags(tags)
            yield guarded

    def current_span(self) -> Span | None:
        span = self.inner.current_span()
        return None if span is None else _GuardedSpan(span, self.content)


@dataclass
class Tracing:
    """The running exporter; `close` sends what is still buffered and turns Haystack's tracing off."""

    provider: Any  # opentelemetry.sdk.trace.TracerProvider

    def close(self) -> None:
        disable_tracing()
        self.provider.shutdown()


def start_tracing(endpoint: str, service_name: str, content: bool, timeout_s: float = 5.0) -> Tracing:
    """Spans of every pipeline run in this process go to `endpoint` (e.g. http://collector:4318/v1/traces).
    Collector headers (an API key) come from OTEL_EXPORTER_OTLP_HEADERS, as for any OpenTelemetry SDK."""
    try:
        from haystack_integrations.tracing.opentelemetry import OpenTelemetryTracer
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise TracingUnavailable("server.tracing.endpoint is set, but tracing is not installed: "
                                 "pip install 'kbot[tracing]' (or unset server.tracing.endpoint)") from None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=timeout_s)))
    enable_tracing(GuardedTracer(OpenTelemetryTracer(provider.get_tracer("kbot")), content))
    return Tracing(provider)
