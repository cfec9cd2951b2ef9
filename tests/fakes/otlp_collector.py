"""A real local OpenTelemetry collector endpoint (127.0.0.1): `POST /v1/traces` with OTLP/HTTP
protobuf, as the real exporter sends it; the spans are decoded and kept for the test to read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.fakes.aio import ThreadedServer


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    service: str
    attributes: dict[str, Any]
    duration_ns: int
    trace_id: bytes
    parent_id: bytes


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class FakeCollector:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        self.server = ThreadedServer(app)

    def __enter__(self) -> FakeCollector:
        self.server.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.stop()

    @property
    def endpoint(self) -> str:
        return f"{self.server.url}/v1/traces"

    async def _traces(self, request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.read())
        for resource_spans in export.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(ReceivedSpan(
                        span.name, str(resource.get("service.name")), {a.key: _value(a.value) for a in span.attributes},
                        span.end_time_unix_nano - span.start_time_unix_nano, span.trace_id, span.parent_span_id))
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")
