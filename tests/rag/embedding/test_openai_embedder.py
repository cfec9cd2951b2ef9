"""`embedder.kind: openai` against a real local OpenAI-compatible server: batches, probing, retrieval."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_indexer, build_knowledge_base
from tests.fakes.openai_server import DIM, serve_openai


def test_openai_embeddings_in_batches(tmp_path: Path, make_settings) -> None:
    with serve_openai() as fake:
        settings = make_settings(embedder={"kind": "openai", "base_url": fake.base_url, "model": "nomic-embed",
                                           "api_key": "sk-test-123", "batch_size": 16})
        kb = build_knowledge_base(settings)
        assert kb.fingerprint.to_dict() == {"kind": "openai", "model": "nomic-embed", "dim": DIM}
        doc = tmp_path / "many.md"
        doc.write_text("\n\n".join(f"## Topic {i}\n\nTopic {i} is about subject{i} only." for i in range(40)))
        outcome = build_indexer(settings, kb).index_path(doc, "many.md")
        assert outcome.status == "indexed" and outcome.chunks == 40
        # one probe for the dimension, then 40 chunks in batches of at most 16
        assert fake.embedding_batches == [1, 16, 16, 8]
        assert set(fake.auth_headers) == {"Bearer sk-test-123"}
        hits = kb.search("subject17", ["global"], mode="vector")
        assert hits[0].meta["heading"] == "Topic 17"


def test_chunks_are_keyword_searchable_while_vectors_are_computed(tmp_path: Path, make_settings) -> None:
    with serve_openai() as fake:
        settings = make_settings(embedder={"kind": "openai", "base_url": fake.base_url, "model": "m"})
        kb = build_knowledge_base(settings)
        doc = tmp_path / "runbook.md"
        doc.write_text("# Runbook\n\nRestart the flux capacitor with sudo systemctl restart flux.")
        seen_during_embedding: list[list[str]] = []
        fake.before_embedding = lambda: seen_during_embedding.append(
            [d.meta["source"] for d in kb.search("flux capacitor", ["global"], mode="keyword")]
        )
        assert build_indexer(settings, kb).index_path(doc, "runbook.md").status == "indexed"
        assert seen_during_embedding == [["runbook.md"]]
        assert kb.search("flux capacitor restart", ["global"], mode="vector")[0].meta["embedded"] is True


def test_embedding_failure_keeps_text_searchable_and_is_retried(tmp_path: Path, make_settings) -> None:
    with serve_openai() as fake:
        settings = make_settings(embedder={"kind": "openai", "base_url": fake.base_url, "model": "m"})
        kb = build_knowledge_base(settings)
        indexer = build_indexer(settings, kb)
        doc = tmp_path / "runbook.md"
        doc.write_text("# Runbook\n\nRotate the on-call pager every Monday at ten.")
        fake.fail_embeddings_with = 400
        failed = indexer.index_path(doc, "runbook.md")
        assert failed.status == "failed" and failed.reason.startswith("embedding failed (")
        assert "searchable by keyword, ingest it again to add vectors" in failed.reason
        hits = kb.search("pager", ["global"], mode="keyword")
        assert [(d.meta["source"], d.meta["embedded"]) for d in hits] == [("runbook.md", False)]
        fake.fail_embeddings_with = None
        assert kb.search("pager Monday", ["global"], mode="vector") == []
        again = indexer.index_path(doc, "runbook.md")
        assert again.status == "indexed"  # not "unchanged": its vectors were missing
        assert kb.search("pager Monday", ["global"], mode="vector")[0].meta["source"] == "runbook.md"
        assert indexer.index_path(doc, "runbook.md").status == "unchanged"
