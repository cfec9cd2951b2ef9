"""Shared fixtures: settings on a temp folder, knowledge bases on real stores, sample documents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_indexer
from bot.config import Settings, parse_settings
from bot.rag.embedders import EmbedderOptions, HaystackEmbedder, build_embedder
from bot.rag.indexing import Indexer
from bot.rag.knowledge_base import NO_EMBEDDER, KnowledgeBase
from bot.rag.stores.lancedb_backend import LanceDBBackend


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        raw: dict[str, Any] = {"data_dir": str(tmp_path / "data"), "embedder": {"kind": "none"}}
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(raw.get(key), dict):
                raw[key] = {**raw[key], **value}
            else:
                raw[key] = value
        return parse_settings(raw, root=tmp_path)

    return make


@pytest.fixture(scope="session")
def local_embedder() -> HaystackEmbedder:
    """The real all-MiniLM-L6-v2, loaded once for the whole run (it takes seconds)."""
    embedder = build_embedder(EmbedderOptions(kind="local"))
    assert embedder is not None
    embedder.warm_up()
    return embedder


@pytest.fixture
def keyword_kb(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(LanceDBBackend(tmp_path / "kw-store", None), None, NO_EMBEDDER)


@pytest.fixture
def vector_kb(tmp_path: Path, local_embedder: HaystackEmbedder) -> KnowledgeBase:
    fp = local_embedder.fingerprint
    return KnowledgeBase(LanceDBBackend(tmp_path / "vec-store", fp.dim), local_embedder, fp)


@pytest.fixture
def indexer_for(make_settings: Callable[..., Settings]) -> Callable[..., Indexer]:
    def make(kb: KnowledgeBase, **knowledge: Any) -> Indexer:
        return build_indexer(make_settings(knowledge=knowledge), kb)

    return make
