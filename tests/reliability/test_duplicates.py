"""Promise: every platform event is handled once, whoever delivers it how often: retries, replays and
twin events lose a race on one unique row, even between processes (SQLite, and PostgreSQL when
available). Per platform, tests/adapters shows it end to end: Slack's retried mention and its
`message` twin, Telegram's replayed update, Discord's replayed gateway event and two gateways."""

from __future__ import annotations

import os
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.messages import ThreadKey
from bot.state.deliveries import DeliveryLog
from bot.state.engine import make_engine
from bot.state.feedback import UNKNOWN_ANSWER, FeedbackLog
from bot.state.memory import ThreadMemory
from tests.support.postgres import NO_POSTGRES

# These tests share the tables of the one test PostgreSQL database: under `pytest -n`, one worker
# runs them all, one after another.
pytestmark = pytest.mark.xdist_group("shared-postgres")


def _urls(tmp_path: Path) -> list[str | None]:
    url = os.environ.get("KBOT_TEST_POSTGRES_URL")
    return [None, url] if url else [None]


@pytest.mark.parametrize("which", [0, 1])
def test_two_processes_racing_for_one_event_answer_it_once(tmp_path: Path, which: int) -> None:
    urls = _urls(tmp_path)
    if which >= len(urls):
        pytest.skip(NO_POSTGRES)
    url = urls[which]
    # Two engines on one database stand for two `kbot run` processes on one token.
    logs = [DeliveryLog(make_engine(url, tmp_path)), DeliveryLog(make_engine(url, tmp_path))]
    keys = [f"{uuid.uuid4().hex}:{i}" for i in range(40)]
    jobs = [(log, key) for key in keys for log in logs]
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda job: (job[1], job[0].claim("slack", job[1])), jobs))
    for key in keys:
        assert [won for k, won in wins if k == key].count(True) == 1
    assert logs[0].forget_older_than(timedelta(seconds=-1)) >= 40  # old rows can be cleaned up


def test_feedback_is_stored_with_its_turn_and_a_second_click_replaces_the_first(tmp_path: Path) -> None:
    engine = make_engine(None, tmp_path)
    memory = ThreadMemory(engine)
    memory.remember(ThreadKey("t", "w", "c", "1"), question="q", query="q", answer="a", sources=[], mode="llm",
                    author="u", reply_id="r1")
    feedback = FeedbackLog(engine)
    assert "👍" in feedback.record("r1", "alice", 1)
    assert "👎" in feedback.record("r1", "alice", -1)
    feedback.record("r1", "bob", 1)
    assert feedback.votes("r1") == {"alice": -1, "bob": 1}
    assert feedback.record("nope", "alice", 1) == UNKNOWN_ANSWER
    assert feedback.votes("nope") == {}
    with pytest.raises(ValueError):
        feedback.record("r1", "alice", 5)


def test_an_older_database_gains_the_new_column_without_losing_turns(tmp_path: Path) -> None:
    path = tmp_path / "kbot.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE threads (id INTEGER PRIMARY KEY, platform VARCHAR(32), workspace VARCHAR(128), "
            "channel VARCHAR(128), thread VARCHAR(255), created_at DATETIME, "
            "UNIQUE (platform, workspace, channel, thread));"
            "CREATE TABLE turns (id INTEGER PRIMARY KEY, thread_id INTEGER REFERENCES threads(id), question TEXT, "
            "query TEXT, answer TEXT, sources JSON, mode VARCHAR(32), author VARCHAR(128), created_at DATETIME);"
            "INSERT INTO threads VALUES (1, 'cli', 'local', 'cli', 't1', '2026-01-01 00:00:00');"
            "INSERT INTO turns VALUES (1, 1, 'old q', 'old q', 'old a', '[]', 'extractive', 'u', "
            "'2026-01-01 00:00:00');")
    memory = ThreadMemory(make_engine(None, tmp_path))
    key = ThreadKey("cli", "local", "cli", "t1")
    assert [t.answer for t in memory.history(key)] == ["old a"]
    memory.remember(key, question="new q", query="new q", answer="new a", sources=[], mode="llm", author="u",
                    reply_id="r9")
    assert [t.answer for t in memory.history(key)] == ["old a", "new a"]
