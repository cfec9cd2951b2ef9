"""Thread memory: keyed by all four parts, trimmed oldest-first, shared through the database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.core.messages import ThreadKey
from bot.state.engine import make_engine
from bot.state.memory import ThreadMemory
from tests.support.postgres import requires_postgres

# These tests share the tables of the one test PostgreSQL database: under `pytest -n`, one worker
# runs them all, one after another.
pytestmark = pytest.mark.xdist_group("shared-postgres")

KEY = ThreadKey("slack", "T1", "C1", "1700000000.000100")


def _remember(memory: ThreadMemory, key: ThreadKey, question: str, answer: str) -> None:
    memory.remember(key, question=question, query=question, answer=answer, sources=[], mode="extractive", author="u")


def _memories(tmp_path: Path) -> list[ThreadMemory]:
    url = os.environ.get("KBOT_TEST_POSTGRES_URL")
    engines = [make_engine(None, tmp_path)]
    if url:
        engines.append(make_engine(url, tmp_path))
    return [ThreadMemory(e, budget_chars=100) for e in engines]


def test_history_is_trimmed_oldest_first(tmp_path: Path) -> None:
    for memory in _memories(tmp_path):
        for i in range(5):
            _remember(memory, KEY, f"question {i} " + "x" * 10, f"answer {i} " + "y" * 10)
        turns = memory.history(KEY)
        assert [t.question.split()[1] for t in turns] == ["3", "4"]  # turns are 40 characters: two fit in 100


def test_threads_are_kept_apart_and_shared_between_processes(tmp_path: Path) -> None:
    first = ThreadMemory(make_engine(None, tmp_path))
    _remember(first, KEY, "What is the VPN?", "Tunnelgate [1].")
    _remember(first, ThreadKey("slack", "T1", "C1", "other"), "Other thread?", "Yes.")
    _remember(first, ThreadKey("slack", "T2", "C1", KEY.thread), "Other workspace?", "Yes.")
    second = ThreadMemory(make_engine(None, tmp_path))  # a new engine on the same file, as another process
    assert [(t.question, t.answer) for t in second.history(KEY)] == [("What is the VPN?", "Tunnelgate [1].")]
    assert second.history(ThreadKey("discord", "T1", "C1", KEY.thread)) == []


@requires_postgres
def test_postgres_memory(tmp_path: Path) -> None:
    memory = ThreadMemory(make_engine(os.environ["KBOT_TEST_POSTGRES_URL"], tmp_path))
    _remember(memory, ThreadKey("pg", "w", "c", str(tmp_path)), "q", "a")
    assert [t.answer for t in memory.history(ThreadKey("pg", "w", "c", str(tmp_path)))] == ["a"]
