"""Shared fixtures: settings on a temp folder, knowledge bases on real stores, sample documents."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url

from bot.app import build_indexer
from bot.config import Settings
from bot.rag.embedding.build import build_embedder
from bot.rag.embedding.contract import EmbedderOptions
from bot.rag.embedding.haystack_embedders import HaystackEmbedder
from bot.rag.indexer import Indexer
from bot.rag.knowledge_base import NO_EMBEDDER, KnowledgeBase
from bot.rag.stores.lancedb_backend import LanceDBBackend
from bot.wiring import parse_settings
from tests.fakes.openai_server import FakeOpenAI, serve_openai
from tests.support.bots import ANSWER_TOKENS, TOKEN_DELAY_S
from tests.support.postgres import NO_POSTGRES

pytest_plugins = ["tests.support.conversation"]  # the answer engine's knowledge and memory fixtures


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Skips as one line per reason with its count (pytest's -rs gives one line per test or place)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped, by reason")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.line(f"{count:4d}  {reason}")


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


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    """The streaming fake LLM, at the pace of a real one (on the tests' scaled clock)."""
    with serve_openai() as fake:
        fake.reply_tokens = list(ANSWER_TOKENS)
        fake.token_delay_s = TOKEN_DELAY_S
        yield fake


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


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server (KBOT_TEST_POSTGRES_URL), dropped afterwards."""
    base = os.environ.get("KBOT_TEST_POSTGRES_URL")
    if not base:
        pytest.skip(NO_POSTGRES)
    name = f"kbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
