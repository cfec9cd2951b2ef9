"""`embedder.kind: openai` against a real local OpenAI-compatible server: batches, probing, retrieval."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_knowledge_base
from bot.rag.indexing import Indexer
from tests.fakes.openai_server import DIM, serve_openai


def test_openai_embeddings_in_batches(tmp_path: Path, make_settings) -> None:
    with serve_openai() as fake:
        settings = make_settings(embedder={"kind": "openai", "base_url": fake.base_url, "model": "nomic-embed",
                                           "api_key": "sk-test-123", "batch_size": 16})
        kb = build_knowledge_base(settings)
        assert kb.fingerprint.to_dict() == {"kind": "openai", "model": "nomic-embed", "dim": DIM}
        doc = tmp_path / "many.md"
        doc.write_text("\n\n".join(f"## Topic {i}\n\nTopic {i} is about subject{i} only." for i in range(40)))
        outcome = Indexer(kb, settings.knowledge).index_path(doc, "many.md")
        assert outcome.status == "indexed" and outcome.chunks == 40
        # one probe for the dimension, then 40 chunks in batches of at most 16
        assert fake.embedding_batches == [1, 16, 16, 8]
        assert set(fake.auth_headers) == {"Bearer sk-test-123"}
        hits = kb.search("subject17", ["global"], mode="vector")
        assert hits[0].meta["heading"] == "Topic 17"
