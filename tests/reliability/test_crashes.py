"""Promise: a crash or a stop loses nothing. `kbot run` killed (-9) or stopped (SIGTERM) in the middle
of an upload finishes it once after the next start, in the same progress message, with no duplicate
chunks; an answer still running when the grace period ends gets a short notice instead of silence.
(SIGTERM mid-answer, finishing in the grace period: tests/test_run.py; jobs killed: tests/test_jobs.py.)
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from bot.chat.service import SHUTDOWN_NOTICE
from tests.fakes.openai_server import serve_openai
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import (
    eventually,
    free_port,
    http_get,
    knowledge_bot,
    platform_settings,
    running_bot,
)
from tests.support.clock import REAL
from tests.support.processes import KbotChild


def test_answers_still_running_after_the_grace_period_end_with_a_notice(make_settings) -> None:
    with serve_openai() as llm, FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base},
            server={"shutdown_grace_s": 0.5})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["word "] * 60
        llm.token_delay_s = 0.2  # 12 s: far longer than the grace period

        async def scenario() -> None:
            async with running_bot(app) as running:
                tg.user_message(-100, "/ask How many vacation days do we get?", chat_type="supergroup")
                await eventually(lambda: tg.bot_messages(-100), what="the streamed reply")
                running.stop.set()
            message = tg.bot_messages(-100)[0]
            assert message.text.endswith(SHUTDOWN_NOTICE) and "word" in message.text

        asyncio.run(scenario())


@pytest.mark.parametrize("stop_with", [signal.SIGKILL, signal.SIGTERM], ids=["kill -9", "SIGTERM"])
def test_a_kbot_run_stopped_mid_upload_finishes_it_once_after_restart(tmp_path: Path, stop_with: int) -> None:
    """kbot run is killed (or stopped) mid-job; the next kbot run takes the job over and reports it done once."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from bot.state.db import JobRow
    from bot.state.engine import make_engine

    text = "# Travel\n\n" + " ".join(f"Rule {i}: book trains before planes for short trips." for i in range(150))
    port = free_port()
    with serve_openai(clock=REAL) as embeddings, FakeTelegram(clock=REAL) as tg:  # kbot runs in processes of its own
        embeddings.before_embedding = lambda: time.sleep(0.5)
        (tmp_path / "config.yaml").write_text(
            "data_dir: state\nknowledge: {paths: []}\nllm: {kind: extractive}\n"
            f"embedder: {{kind: openai, base_url: '{embeddings.base_url}', api_key: test, batch_size: 4}}\n"
            f"server: {{port: {port}, shutdown_grace_s: 1}}\njobs: {{stale_after_s: 2}}\n"
            f"telegram: {{enabled: true, token: '{TOKEN}', base_url: '{tg.api_base}', "
            f"base_file_url: '{tg.file_base}', access: open}}\n")

        def start() -> KbotChild:
            process = KbotChild(["run"], tmp_path)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200:
                        return process
                except OSError:
                    pass
                time.sleep(0.2)
            process.kill()
            raise AssertionError("kbot run did not start")

        first = start()
        upload = tg.user_document(-100, "travel.md", text.encode(), caption="/kb upload")
        engine = make_engine(None, tmp_path / "state")

        def job() -> JobRow | None:
            with Session(engine) as session:
                return session.scalar(select(JobRow))

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = job()
            if row is not None and row.stage == "embedding" and embeddings.embedding_batches:
                break
            time.sleep(0.05)
        first.send_signal(stop_with)  # mid-embedding: killed with no chance to clean up, or asked to stop
        code = first.wait(30)
        assert code == (0 if stop_with == signal.SIGTERM else -signal.SIGKILL)
        embeddings.before_embedding = None
        second = start()
        try:
            def replies() -> list:
                return [m for m in tg.bot_messages(-100) if m.reply_to == upload["message"]["message_id"]]

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(m.text.startswith("✓") for m in replies()):
                time.sleep(0.1)
            assert [m.text[:20] for m in replies() if m.text.startswith("✓")] == ["✓ travel.md indexed:"]
            assert len(replies()) == 1  # the same progress message, taken over by the second process
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0
        row = job()
        assert row is not None and row.state == "done" and row.attempts == 2 and row.notified
        from bot.app import build_knowledge_base
        from bot.rag.knowledge_base import source_filter
        from bot.wiring import load_settings

        kb = build_knowledge_base(load_settings(tmp_path / "config.yaml"))
        stored = kb.chunk_metadata(source_filter("travel.md", ["telegram:-100"]))
        assert row.chunks == len(stored) == stored[0][1]["chunk_count"]
