"""`server.tracing`: spans of every pipeline component reach a real OTLP/HTTP endpoint, timed and named,
and carry no message text unless `server.log_message_text` is on. Haystack's own telemetry stays off."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.app import App
from bot.core.messages import Incoming, ThreadKey
from tests.fakes.otlp_collector import FakeCollector, ReceivedSpan
from tests.support.conversation import Port

SECRET_QUESTION = "How many vacation days does the Falcon team get?"
DOCUMENT = "# Time off\n\nEvery employee gets 25 vacation days a year; the Falcon team gets 30."


def _run(make_settings, collector: FakeCollector, log_message_text: bool) -> list[ReceivedSpan]:
    app = App(make_settings(server={"log_message_text": log_message_text,
                                    "tracing": {"endpoint": collector.endpoint, "service_name": "kbot-test"}}))

    async def scenario() -> None:
        assert app.indexer.index_bytes(DOCUMENT.encode(), "markdown", "time-off.md", "global").status == "indexed"
        incoming = Incoming(ThreadKey("cli", "local", "terminal", "t"), "ann", SECRET_QUESTION, frozenset({"global"}))
        assert await app.conversation.answer(incoming, Port()) is not None
        await app.aclose()  # flushes the exporter

    asyncio.run(scenario())
    return list(collector.spans)


def _components(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {str(s.attributes["haystack.component.name"]): s for s in spans if s.name == "haystack.component.run"}


def test_every_component_is_a_timed_span_without_message_text(make_settings) -> None:
    with FakeCollector() as collector:
        spans = _run(make_settings, collector, log_message_text=False)
    pipelines = [s for s in spans if s.name == "haystack.pipeline.run"]
    assert len(pipelines) == 2 and {s.service for s in spans} == {"kbot-test"}
    components = _components(spans)
    assert {"rewriter", "retriever", "gate", "prompt", "generator", "citations"} <= set(components)
    assert {"converter", "cleaner", "splitter", "keyword_writer", "embedder", "vector_writer"} <= set(components)
    assert all(s.duration_ns > 0 for s in components.values())
    answer_run = next(p for p in pipelines if "answer" in str(p.attributes.get("haystack.pipeline.metadata")))
    assert components["retriever"].trace_id == answer_run.trace_id
    everything = json.dumps([s.attributes for s in spans], default=str)
    assert "Falcon" not in everything and "vacation" not in everything


def test_message_text_is_traced_only_when_the_operator_allows_it(make_settings) -> None:
    with FakeCollector() as collector:
        spans = _run(make_settings, collector, log_message_text=True)
    generator = _components(spans)["retriever"]
    assert "Falcon team" in str(generator.attributes.get("haystack.component.input"))


def test_tracing_off_sends_nothing_and_haystack_telemetry_is_off(make_settings) -> None:
    import haystack.telemetry._telemetry as telemetry

    assert telemetry.telemetry is None  # kbot sets HAYSTACK_TELEMETRY_ENABLED=False before Haystack loads
    with FakeCollector() as collector:
        app = App(make_settings())
        assert app.tracing is None
        app.indexer.index_bytes(DOCUMENT.encode(), "markdown", "time-off.md", "global")
    assert collector.spans == []


def test_a_missing_tracing_endpoint_does_not_stop_answers(make_settings) -> None:
    from tests.fakes.http_site import closed_port_url

    app = App(make_settings(server={"tracing": {"endpoint": closed_port_url() + "v1/traces"}}))
    assert app.indexer.index_bytes(DOCUMENT.encode(), "markdown", "time-off.md", "global").status == "indexed"
    incoming = Incoming(ThreadKey("cli", "local", "terminal", "t"), "ann", SECRET_QUESTION, frozenset({"global"}))
    assert asyncio.run(app.conversation.answer_once(incoming, Port())) is not None
    assert app.tracing is not None
    app.tracing.close()


@pytest.fixture(autouse=True)
def _tracing_is_off_after_each_test():  # noqa: ANN202
    yield
    from haystack import tracing

    tracing.disable_tracing()
