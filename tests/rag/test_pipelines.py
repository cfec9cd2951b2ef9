"""The answer and indexing flows as Haystack pipelines: YAML out and back in, a customised pipeline
with an extra component, the contract checked at start-up, and rerankers against a local endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import App
from bot.config import ConfigError
from bot.core.messages import Answer, Incoming, ThreadKey
from bot.rag.pipeline.loading import load_pipeline
from bot.rag.pipeline.rerankers import HttpReranker
from bot.rag.pipeline.resources import Resources
from tests.fakes.http_site import closed_port_url
from tests.fakes.rerank_server import FakeRerankServer
from tests.support.conversation import Port
from tests.support.optional import requires_torch

# Four passages about vacation; the one mentioning the zebra is the weakest keyword match.
DOCS = {
    "policy.md": "# Vacation policy\n\nThe vacation policy: vacation days, vacation requests and vacation carry-over.",
    "requests.md": "# Requests\n\nVacation requests go to your manager; vacation is approved within a week.",
    "carry.md": "# Carry-over\n\nUnused vacation days carry over to March.",
    "zoo.md": "# Team trip\n\nOn the vacation trip to the zoo we met a zebra. The zebra liked the zebra keeper.",
}
QUESTION = "What is the vacation policy?"


def _app(make_settings, **overrides: Any) -> App:
    app = App(make_settings(**overrides))
    for name, text in DOCS.items():
        assert app.indexer.index_bytes(text.encode(), "markdown", name, "global").status in ("indexed", "unchanged")
    return app


def _ask(app: App, text: str = QUESTION, thread: str = "t1", preset: str = "") -> Answer:
    incoming = Incoming(ThreadKey("cli", "local", "terminal", thread), "ann", text, frozenset({"global"}),
                        preset=preset)
    answer = asyncio.run(app.conversation.answer_once(incoming, Port()))
    assert answer is not None
    return answer


def _with_reranker(default: dict[str, Any], url: str, style: str = "cohere") -> dict[str, Any]:
    """The README's worked example: the default answer pipeline with an HTTP reranker between the
    retriever and the relevance gate."""
    custom = {**default, "components": {**default["components"], "reranker": {
        "type": "bot.rag.pipeline.rerankers.HttpReranker",
        "init_parameters": {"url": url, "style": style, "timeout_s": 2.0}}}}
    connections = [c for c in default["connections"]
                   if (c["sender"], c["receiver"]) != ("retriever.documents", "gate.documents")]
    custom["connections"] = [*connections, {"sender": "rewriter.query", "receiver": "reranker.query"},
                             {"sender": "retriever.documents", "receiver": "reranker.documents"},
                             {"sender": "reranker.documents", "receiver": "gate.documents"}]
    return custom


def test_the_default_pipelines_round_trip_through_yaml(make_settings) -> None:
    app = _app(make_settings)
    for pipeline in (app.answer_pipeline, app.indexer.pipeline):
        text = pipeline.dumps()
        loaded = load_pipeline_text(text, app.resources, app.settings.root)
        assert _normal(loaded.to_dict()) == _normal(pipeline.to_dict())
        assert load_pipeline_text(loaded.dumps(), app.resources, app.settings.root).dumps() == loaded.dumps()
    assert "kbot" in app.answer_pipeline.to_dict()["metadata"]


def test_a_pipeline_saved_before_its_component_modules_were_renamed_still_loads(make_settings) -> None:
    """`kbot pipeline show > answer.yaml` of an older kbot names the components' old modules."""
    from bot.rag.pipeline.loading import RENAMED_MODULES

    app = _app(make_settings)
    for pipeline in (app.answer_pipeline, app.indexer.pipeline):
        text = pipeline.dumps()
        old = text
        for before, now in RENAMED_MODULES.items():
            old = old.replace(f"type: {now}.", f"type: {before}.")
        assert old != text
        loaded = load_pipeline_text(old, app.resources, app.settings.root)
        assert _normal(loaded.to_dict()) == _normal(pipeline.to_dict())


def _normal(data: dict[str, Any]) -> dict[str, Any]:
    """A pipeline's dict with its connections in a fixed order (Haystack lists them as it walks the graph)."""
    return {**data, "connections": sorted(data["connections"], key=lambda c: (c["sender"], c["receiver"]))}


def load_pipeline_text(text: str, resources: Resources, folder: Path) -> Any:
    path = folder / "pipeline.yaml"
    path.write_text(text)
    return load_pipeline(path, resources)


def test_a_customised_yaml_with_a_reranker_changes_the_answer_order(make_settings, tmp_path: Path) -> None:
    plain = _app(make_settings)
    before = _ask(plain)
    assert before.sources[0].source == "policy.md" and "zoo.md" not in [s.source for s in before.sources[:1]]
    with FakeRerankServer() as reranker:
        path = tmp_path / "answer.yaml"
        path.write_text(yaml.safe_dump(_with_reranker(plain.answer_pipeline.to_dict(), reranker.cohere_url)))
        custom = App(make_settings(answer={"pipeline": str(path)}))
        after = _ask(custom, thread="t2")
        assert reranker.state.requests and reranker.state.requests[0]["query"] == QUESTION
    assert after.sources[0].source == "zoo.md"  # the endpoint's favourite passage now comes first
    assert after.sources[0].why is not None and after.sources[0].why.rerank_score == 3.0
    assert after.sources[0].why.keyword_rank is not None and after.sources[0].why.keyword_rank > 1


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["components"].pop("retriever"), "no component takes the input 'scopes'"),
    (lambda d: d["components"].pop("citations"), "no component produces an 'answer' output"),
    (lambda d: d["components"]["gate"].update(type="os.system"), "module 'os', which kbot does not load"),
    (lambda d: d["components"]["gate"].update(type="bot.rag.pipeline.retriever.NoSuchGate"), "NoSuchGate"),
    (lambda d: d["components"]["gate"]["init_parameters"].update(colour="red"), "colour"),
])
def test_a_broken_answer_pipeline_is_one_line_at_start_up(make_settings, tmp_path: Path, mutate, message) -> None:
    default = _app(make_settings).answer_pipeline.to_dict()
    mutate(default)
    if "retriever" not in default["components"] or "citations" not in default["components"]:
        gone = {"retriever", "citations"} - set(default["components"])
        default["connections"] = [c for c in default["connections"]
                                  if c["sender"].split(".")[0] not in gone and c["receiver"].split(".")[0] not in gone]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(default))
    with pytest.raises(ConfigError) as raised:
        _ = App(make_settings(answer={"pipeline": str(path)})).answer_pipeline
    text = str(raised.value)
    assert text.startswith("answer.pipeline: ") and message in text and "\n" not in text


def test_unreadable_pipeline_files_say_so(make_settings, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("components: [unclosed\n")
    for name, expected in (("missing.yaml", "cannot read it"), ("bad.yaml", "not valid YAML at line")):
        with pytest.raises(ConfigError, match=expected):
            _ = App(make_settings(answer={"pipeline": str(tmp_path / name)})).answer_pipeline
    with pytest.raises(ConfigError, match="knowledge.pipeline: .*cannot read it"):
        _ = App(make_settings(knowledge={"pipeline": str(tmp_path / "missing.yaml")})).indexer


def test_a_customised_indexing_pipeline_is_used(make_settings, tmp_path: Path) -> None:
    """An indexing pipeline without the cleaner: the invisible characters stay in the chunks."""
    app = App(make_settings())
    default = app.indexer.pipeline.to_dict()
    default["components"].pop("cleaner")
    default["connections"] = [c for c in default["connections"] if "cleaner" not in c["sender"] + c["receiver"]]
    default["connections"].append({"sender": "converter.parsed", "receiver": "splitter.parsed"})
    path = tmp_path / "indexing.yaml"
    path.write_text(yaml.safe_dump(default))
    raw = "# Notes\n\nvaca\u00adtion days\u200b are 25".encode()
    cleaned = App(make_settings(data_dir=str(tmp_path / "a")))
    custom = App(make_settings(data_dir=str(tmp_path / "b"), knowledge={"pipeline": str(path)}))
    for which in (cleaned, custom):
        assert which.indexer.index_bytes(raw, "markdown", "notes.md", "global").status == "indexed"
    assert cleaned.knowledge_base.search("vacation", ["global"])[0].content == "vacation days are 25"
    assert custom.knowledge_base.search("vacation", ["global"]) == []
    assert "\u00ad" in custom.knowledge_base.search("days", ["global"])[0].content


@pytest.fixture
def retrieved(keyword_kb, indexer_for) -> list[Any]:
    """The four passages, in keyword retrieval's order."""
    indexer = indexer_for(keyword_kb)
    for name, text in DOCS.items():
        indexer.index_bytes(text.encode(), "markdown", name, "global")
    return keyword_kb.retrieve(QUESTION, ["global"], 4).documents


@pytest.mark.parametrize("style", ["cohere", "tei"])
def test_http_reranker_orders_by_the_endpoints_scores(retrieved, style: str) -> None:
    found = retrieved
    with FakeRerankServer() as server:
        server.state.favourite = "manager"
        url = server.cohere_url if style == "cohere" else server.tei_url
        reranked = HttpReranker(url, model="rerank-v3.5", style=style, rerank_api_key="rk-secret").run(
            QUESTION, found)["documents"]
        sent = server.state.requests[0]
    assert reranked[0].meta["source"] == "requests.md" and reranked[0].meta["_why"]["rerank_score"] == 1.0
    assert sorted(d.id for d in reranked) == sorted(d.id for d in found)
    assert server.state.auth_headers == ["Bearer rk-secret"]
    assert (sent.get("model") == "rerank-v3.5") == (style == "cohere")
    assert len(sent["documents" if style == "cohere" else "texts"]) == 4


@pytest.mark.parametrize("fault", ["status", "slow", "garbage", "refused"])
def test_a_failing_reranker_keeps_the_retrieval_order(retrieved, fault: str) -> None:
    found = retrieved
    with FakeRerankServer() as server:
        server.state.fail_with = 503 if fault == "status" else None
        server.state.delay_s = 3 if fault == "slow" else 0
        server.state.garbage = fault == "garbage"
        url = closed_port_url() if fault == "refused" else server.cohere_url
        reranked = HttpReranker(url, timeout_s=1.0).run(QUESTION, found)["documents"]
    assert [d.id for d in reranked] == [d.id for d in found]
    assert all("rerank_score" not in d.meta["_why"] for d in reranked)


def test_the_reranker_config_builds_it_into_the_default_pipeline(make_settings) -> None:
    with FakeRerankServer() as server:
        app = _app(make_settings, retrieval={"reranker": {"kind": "http", "url": server.cohere_url}})
        assert "reranker" in dict(app.answer_pipeline.walk())
        answer = _ask(app)
        assert answer.sources[0].source == "zoo.md" and len(server.state.requests) == 1
        # A preset that does not rerank asks the endpoint nothing.
        _ask(app, thread="t2", preset="fast")
        assert len(server.state.requests) == 1


def test_presets_change_how_much_is_retrieved_and_reranked(make_settings) -> None:
    with FakeRerankServer() as server:
        app = _app(make_settings, retrieval={"reranker": {"kind": "http", "url": server.cohere_url}})
        for n in range(30):
            text = f"# Note {n}\n\nVacation note number {n} about the vacation policy of team {n}."
            app.indexer.index_bytes(text.encode(), "markdown", f"note-{n}.md", "global")
        sent: dict[str, int] = {}
        for preset in ("fast", "balanced", "accurate"):
            before = len(server.state.requests)
            answer = _ask(app, thread=preset, preset=preset)
            assert 1 <= len(answer.sources) <= 5
            sent[preset] = sum(len(r["documents"]) for r in server.state.requests[before:])
    assert sent == {"fast": 0, "balanced": 10, "accurate": 20}  # top_k 5: none, twice, four times as many


def test_the_fast_preset_searches_by_keyword_only(vector_kb, indexer_for, tmp_path: Path) -> None:
    from bot.chat.conversation import Conversation
    from bot.config import AnswerSettings
    from bot.state.engine import make_engine
    from bot.state.memory import ThreadMemory

    indexer = indexer_for(vector_kb)
    for name, text in DOCS.items():
        indexer.index_bytes(text.encode(), "markdown", name, "global")
    conversation = Conversation(vector_kb, ThreadMemory(make_engine(None, tmp_path / "db")), None, AnswerSettings())
    found: dict[str, list[Any]] = {}
    for preset in ("fast", "balanced"):
        incoming = Incoming(ThreadKey("t", "w", "c", preset), "ann", QUESTION, frozenset({"global"}), preset=preset)
        answer = asyncio.run(conversation.answer_once(incoming, Port()))
        assert answer is not None and answer.sources
        found[preset] = [s.why for s in answer.sources]
    assert all(w is not None and w.vector_rank is None and w.keyword_rank for w in found["fast"])
    assert all(w is not None and w.vector_rank and w.vector_score is not None for w in found["balanced"])


@pytest.fixture(scope="session")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small cross-encoder made here from the packaged MiniLM weights (a fixed, seeded scoring head):
    a real model folder, as a team would point `model_path` at, with nothing downloaded."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from bot.rag.embedding.model import local_model_path

    folder = tmp_path_factory.mktemp("cross-encoder")
    torch.manual_seed(7)
    AutoModelForSequenceClassification.from_pretrained(local_model_path(), num_labels=1).save_pretrained(folder)
    AutoTokenizer.from_pretrained(local_model_path()).save_pretrained(folder)
    return folder


@requires_torch
def test_the_local_reranker_orders_by_its_cross_encoder(make_settings, cross_encoder: Path) -> None:
    from sentence_transformers import CrossEncoder

    app = _app(make_settings, retrieval={"reranker": {"kind": "local", "model_path": str(cross_encoder)}})
    answer = _ask(app)
    retrieved = app.knowledge_base.retrieve(QUESTION, ["global"], 10).documents
    model = CrossEncoder(str(cross_encoder), local_files_only=True, device="cpu")
    scores = model.predict([(QUESTION, d.content) for d in retrieved])
    expected = [d.meta["source"] for _, d in sorted(zip(scores, retrieved, strict=True), key=lambda p: -p[0])]
    cited = [s.source for s in answer.sources]
    assert cited == [name for name in expected if name in cited]  # the cited ones, in the model's order
    assert all(s.why is not None and s.why.rerank_score is not None for s in answer.sources)


def test_a_local_reranker_without_a_model_folder_is_a_config_error(make_settings, tmp_path: Path) -> None:
    app = App(make_settings(retrieval={"reranker": {"kind": "local", "model_path": "models/none"}}))
    with pytest.raises(ConfigError, match="retrieval.reranker.model_path: no model folder at .*models/none"):
        _ = app.answer_pipeline
    with pytest.raises(ConfigError, match="set retrieval.reranker.model_path"):
        make_settings(retrieval={"reranker": {"kind": "local"}})
