"""Promise: past one process. Two `kbot run --role chat` and two `kbot run --role worker` processes on
one PostgreSQL answer each question once, run each indexing job once (the chat processes show its
progress and its completion, once), resume a job whose worker was killed, and honour a scope choice
made through either chat process in the other at once.

These are real processes (`python -m bot run`), on the fake Slack (which sends every event to both
Socket Mode connections: the worst case for duplicates) and the fake OpenAI-compatible server."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.app import App
from bot.state.db import JobRow
from bot.wiring import parse_settings
from tests.fakes.openai_server import FakeOpenAI, serve_openai
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.support.bots import ANSWER_TOKENS, HANDBOOK, NO_RATE_LIMITS
from tests.support.clock import REAL
from tests.support.kbot_process import KbotProcess
from tests.support.paths import REPO
from tests.support.platforms import slack_final

ADMIN = "UADMIN"
ROOT = REPO


def _until(predicate: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeOpenAI]]:
    with FakeSlack(clock=REAL) as slack, serve_openai(clock=REAL) as llm:  # kbot runs in processes of its own
        slack.state.workspace_admins.add(ADMIN)
        llm.reply_tokens = list(ANSWER_TOKENS)
        llm.token_delay_s = 0.02
        yield slack, llm


def _deployment(folder: Path, database: str, slack: FakeSlack, llm: FakeOpenAI) -> dict[str, Any]:
    config = {
        "data_dir": "data", "database": {"url": database},
        "embedder": {"kind": "openai", "base_url": llm.base_url, "api_key": "${KBOT_TEST_KEY}", "batch_size": 4},
        "llm": {"kind": "openai", "base_url": llm.base_url, "api_key": "${KBOT_TEST_KEY}", "model": "fake"},
        "slack": {"enabled": True, "bot_token": "${SLACK_BOT_TOKEN}", "app_token": "${SLACK_APP_TOKEN}",
                  "base_url": slack.api_base, "access": "open", "admins": [ADMIN]},
        "limits": NO_RATE_LIMITS, "jobs": {"stale_after_s": 2, "resync_minutes": 0},
        "server": {"shutdown_grace_s": 2},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return config


def _jobs(database: str) -> list[JobRow]:
    engine = create_engine(database)
    try:
        with Session(engine) as session:
            rows = list(session.scalars(select(JobRow).order_by(JobRow.id)))
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def _messages(slack: FakeSlack, prefix: str) -> list:
    return [m for m in list(slack.state.messages.values()) if m.text.startswith(prefix)]


def test_two_chat_and_two_worker_processes_on_postgresql(fakes, postgres_database: str, tmp_path: Path) -> None:
    slack, llm = fakes
    config = _deployment(tmp_path, postgres_database, slack, llm)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KBOT_TEST_KEY": "test-key", "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_APP_TOKEN": APP_TOKEN, "HF_HUB_OFFLINE": "1"}
    os.environ["KBOT_TEST_KEY"] = "test-key"
    try:
        settings = parse_settings(config, root=tmp_path)
    finally:
        del os.environ["KBOT_TEST_KEY"]
    assert App(settings).indexer.index_bytes(HANDBOOK.encode(), "markdown", "handbook.md", "global").status == "indexed"

    processes = [KbotProcess(role, tmp_path, env, i) for i, role in enumerate(["chat", "chat", "worker", "worker"])]
    chats, workers = processes[:2], processes[2:]
    try:
        _until(lambda: all(p.ready() for p in processes), timeout=90, what="four processes ready")
        _until(lambda: slack.connections == 2, what="two Socket Mode connections")

        # Each question, sent to both connections, is answered once.
        asked = []
        for i in range(12):
            envelope = slack.mention(f"C{i % 3}", f"How many vacation days do we get? ({i})")
            slack.deliver(envelope)
            asked.append(envelope["event"])
        finals = _until(lambda: all(slack_final(slack, e["channel"], e["ts"]) for e in asked) and
                        [slack.thread_replies(e["channel"], e["ts"]) for e in asked], timeout=60, what="12 answers")
        assert [len(replies) for replies in finals] == [1] * 12
        assert all("25 vacation days" in replies[0].visible() for replies in finals)
        assert len(llm.chat_requests) == 12
        _until(lambda: sum(p.counter("kbot_answers_total") for p in chats) == 12, what="12 answers counted")

        # Each upload is queued by a chat process, run once by a worker, and announced once.
        for i in range(6):
            slack.deliver(slack.share_file("D1", f"doc{i}.md", f"# Doc {i}\n\nTopic {i} is covered here.\n".encode()))
        _until(lambda: len(_messages(slack, "✓ doc")) >= 6, timeout=60, what="six completions")
        time.sleep(2)  # a second announcement would arrive within the relay's next polls
        assert sorted(m.text.split(" ")[1] for m in _messages(slack, "✓ doc")) == [f"doc{i}.md" for i in range(6)]
        jobs = _jobs(postgres_database)
        assert [(j.state, j.attempts) for j in jobs] == [("done", 1)] * 6
        assert all(j.runner and j.runner.endswith(tuple(w.runner for w in workers)) and not j.runner_reports
                   for j in jobs)

        # A worker killed mid-job: the other one takes the job over and finishes it; one announcement.
        llm.before_embedding = lambda: time.sleep(0.4)
        long_text = "# Long\n\n" + "\n\n".join(f"Paragraph {i}: " + "words about the long topic " * 25
                                               for i in range(30))
        slack.deliver(slack.share_file("D1", "long.md", long_text.encode()))
        running = _until(lambda: [j for j in _jobs(postgres_database) if j.source == "long.md"
                                  and j.stage == "embedding" and j.runner], timeout=60, what="long.md embedding")[0]
        victim = next(w for w in workers if running.runner.endswith(w.runner))
        survivor = next(w for w in workers if w is not victim)
        victim.popen.send_signal(signal.SIGKILL)
        victim.popen.wait(10)
        done = _until(lambda: [j for j in _jobs(postgres_database) if j.source == "long.md" and j.state == "done"],
                      timeout=90, what="long.md resumed and done")[0]
        assert done.attempts == 2 and done.runner.endswith(survivor.runner)
        llm.before_embedding = None
        time.sleep(2)
        assert len(_messages(slack, "✓ long.md")) == 1

        # A scope choice made through one chat process holds in the other at once.
        slack.deliver(slack.slash("C1", "scope global off", user=ADMIN, command="/kb"), kind="slash_commands")
        _until(lambda: [e for e in slack.state.ephemeral if "Answers here" in e["text"]] or
               _messages(slack, "Answers here"), what="the scope change")
        before = [p.counter("kbot_answers_total") for p in chats]
        later = []
        for i in range(30):  # until both processes have answered since the change
            envelope = slack.mention("C1", f"How many vacation days do we get? [{i}]")
            slack.deliver(envelope)
            later.append(envelope["event"])
            _until(lambda e=envelope["event"]: slack_final(slack, "C1", e["ts"]), what="an answer after the change")
            if all(p.counter("kbot_answers_total") > b for p, b in zip(chats, before, strict=True)):
                break
        assert all(p.counter("kbot_answers_total") > b for p, b in zip(chats, before, strict=True))
        assert all("25 vacation" not in slack_final(slack, "C1", e["ts"]).visible() for e in later)
        assert slack.state.too_many_requests == 0
    finally:
        for process in processes:
            process.stop()
