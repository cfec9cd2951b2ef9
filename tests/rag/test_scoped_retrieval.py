"""Retrieval never returns a chunk outside the asker's scopes, in any mode, on any store."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_indexer
from bot.rag.knowledge_base import KnowledgeBase
from tests.support.stores import BACKENDS, make_backend

SECRET = "The acquisition of Initech closes on the ninth of May; codename Bluebird."
DOCS = {
    "global": ("handbook.md", "# Handbook\n\nLunch is served at noon in the cafeteria."),
    "slack:T1": ("t1-plans.md", "# Plans\n\n" + SECRET),
    "slack:T1:C9": ("private.md", "# Private\n\nThe Bluebird acquisition budget is 40 million."),
    "discord:G1": ("guild.md", "# Guild\n\nRaid night is Thursday; Bluebird guild meets at nine."),
}


@pytest.fixture(params=BACKENDS)
def populated(request, tmp_path: Path, local_embedder, make_settings) -> KnowledgeBase:
    fp = local_embedder.fingerprint
    kb = KnowledgeBase(make_backend(request.param, tmp_path, fp.dim), local_embedder, fp)
    indexer = build_indexer(make_settings(), kb)
    for scope, (name, text) in DOCS.items():
        path = tmp_path / name
        path.write_text(text)
        assert indexer.index_path(path, name, scope=scope).status == "indexed"
    yield kb
    kb.backend.close()


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        (["global"], {"global"}),
        (["global", "slack:T1"], {"global", "slack:T1"}),
        (["global", "slack:T1", "slack:T1:C9"], {"global", "slack:T1", "slack:T1:C9"}),
        (["discord:G1"], {"discord:G1"}),
        (["slack:T2"], set()),
    ],
)
def test_only_allowed_scopes_come_back(populated: KnowledgeBase, mode: str, scopes: list[str], allowed: set) -> None:
    hits = populated.search("Bluebird acquisition codename", scopes, top_k=10, mode=mode)
    found = {h.meta["scope"] for h in hits}
    assert found <= allowed
    # Vector search ranks everything it may see; keyword search finds the documents naming Bluebird.
    assert found == (allowed if mode != "keyword" else allowed - {"global"})


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
def test_no_scopes_sees_nothing(populated: KnowledgeBase, mode: str) -> None:
    assert populated.search("Bluebird", [], mode=mode) == []


def test_hybrid_ranks_the_right_chunk_first(populated: KnowledgeBase) -> None:
    hits = populated.search("when does the Initech deal close?", ["global", "slack:T1"], mode="hybrid")
    assert hits[0].meta["source"] == "t1-plans.md"
    assert 0 < hits[-1].score <= hits[0].score <= 1.0
