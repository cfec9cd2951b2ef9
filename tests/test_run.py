"""`kbot run` as a process: start-up errors, health, readiness, metrics, the answer log line, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.fakes.openai_server import serve_openai
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import (
    HANDBOOK,
    eventually,
    free_port,
    http_get,
    knowledge_bot,
    platform_settings,
    running_bot,
)
from tests.support.clock import REAL
from tests.support.processes import KbotChild, run_kbot


def test_missing_token_fails_in_one_line_naming_the_variable(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("KBOT_TEST_UNSET_TOKEN", raising=False)
    (tmp_path / "config.yaml").write_text(
        "data_dir: state\nembedder: {kind: none}\ntelegram:\n  enabled: true\n  token: ${KBOT_TEST_UNSET_TOKEN}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "telegram.token is not set" in err and "KBOT_TEST_UNSET_TOKEN" in err


def test_nothing_enabled_says_what_to_enable(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder: {kind: none}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert "no platform is enabled" in capsys.readouterr().err



def test_run_serves_health_metrics_logs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with serve_openai(clock=REAL) as llm, FakeTelegram(clock=REAL) as tg:  # the bot runs in a process of its own
        llm.reply_tokens = ["Every", " employee", " gets", " 25", " vacation", " days", " [1]", "."]
        llm.token_delay_s = 0.4  # about 3 s of answer: SIGTERM arrives while it streams
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "handbook.md").write_text(HANDBOOK)
        (tmp_path / "config.yaml").write_text(
            "data_dir: state\nknowledge: {paths: [docs]}\nembedder: {kind: none}\n"
            f"llm: {{kind: openai, base_url: '{llm.base_url}', api_key: '${{KBOT_TEST_LLM_KEY}}', model: fake}}\n"
            f"server: {{port: {port}, shutdown_grace_s: 20}}\n"
            f"telegram: {{enabled: true, token: '${{KBOT_TEST_TG_TOKEN}}', base_url: '{tg.api_base}', "
            f"base_file_url: '{tg.file_base}', access: open}}\n")
        env = {**os.environ, "KBOT_TEST_TG_TOKEN": TOKEN, "KBOT_TEST_LLM_KEY": "sk-test-secret-value"}
        assert run_kbot(["ingest"], tmp_path, env=env).returncode == 0
        process = KbotChild(["run"], tmp_path, env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    status, body = http_get(f"http://127.0.0.1:{port}/readyz")
                    if status == 200:
                        break
                except OSError:
                    pass
                assert process.poll() is None, process.output()[1]
                time.sleep(0.2)
            ready = json.loads(body)
            assert ready == {"ready": True, "checks": {"store": True, "database": True, "telegram": True}}
            assert http_get(f"http://127.0.0.1:{port}/healthz") == (200, '{"alive": true}')

            tg.user_message(4242, "How many vacation days do we get?")
            deadline = time.monotonic() + 20
            while not tg.state.drafts and time.monotonic() < deadline:
                time.sleep(0.05)
            assert tg.state.drafts, "the answer did not start streaming"
            process.send_signal(signal.SIGTERM)  # mid-answer: it is allowed to finish
            assert process.wait(30) == 0
            finals = [m for m in tg.bot_messages(4242) if m.reply_markup]
            assert len(finals) == 1 and "25 vacation days" in finals[0].text
        finally:
            if process.poll() is None:
                process.kill()
        stderr = process.output()[1]
        lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
        assert len(lines) == 1 and lines[0]["platform"] == "telegram" and lines[0]["sources"] == ["docs/handbook.md"]
        assert lines[0]["latency_ms"] > 0 and "question" not in lines[0]
        assert "vacation days do we get" not in stderr  # no message text in the logs by default
        assert "sk-test-secret-value" not in stderr and TOKEN not in stderr
        # Start-up objects are frozen before serving, so no full collection walks them mid-answer.
        frozen = re.search(r"start-up heap frozen: (\d+) objects", stderr)
        assert frozen and int(frozen.group(1)) > 10_000
        assert "knowledge base warmed up" in stderr  # beside the start-up: see test_local_embedder


def test_metrics_count_questions_errors_and_latency(make_settings) -> None:
    with serve_openai() as llm, FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["Every", " employee", " gets", " 25", " vacation", " days", " [1]", "."]

        async def scenario() -> str:
            async with running_bot(app) as running:
                tg.user_message(1, "How many vacation days do we get?")
                await eventually(lambda: [m for m in tg.bot_messages(1) if m.reply_markup], what="the answer")
                llm.chat_faults = [401]
                tg.user_message(2, "How many vacation days do we get?")
                failed = await eventually(lambda: tg.bot_messages(2), what="the error message")
                assert failed[0].text.startswith("⚠️") and "Traceback" not in failed[0].text
                url = f"http://127.0.0.1:{running.ops.port}/metrics"
                # An answer is counted once it is also remembered, a moment after its message is final.
                for _ in range(100):
                    body = (await asyncio.to_thread(http_get, url))[1]
                    if 'kbot_answer_latency_seconds_count{platform="telegram"}' in body:
                        break
                    await asyncio.sleep(0.1)
                return body

        metrics = asyncio.run(scenario())
        assert 'kbot_questions_total{platform="telegram"} 2.0' in metrics
        assert 'kbot_errors_total{kind="answer",platform="telegram"} 1.0' in metrics
        assert 'kbot_answer_latency_seconds_count{platform="telegram"} 1.0' in metrics
        assert 'kbot_time_to_first_token_seconds_count{platform="telegram"} 1.0' in metrics
        assert 'kbot_retrieval_seconds_count{platform="telegram"} 1.0' in metrics
        assert 'kbot_llm_tokens_total{platform="telegram"} 8.0' in metrics


@pytest.mark.parametrize("platform", ["slack", "discord"])
def test_enabled_platforms_need_their_tokens(tmp_path: Path, monkeypatch, capsys, platform: str) -> None:
    (tmp_path / "config.yaml").write_text(f"data_dir: state\nembedder: {{kind: none}}\n{platform}: {{enabled: true}}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert f"{platform}." in capsys.readouterr().err


def test_a_warm_up_that_fails_is_one_warning_and_leaves_the_bot_running(tmp_path: Path, caplog) -> None:
    """A store that cannot be opened at start: the first question reports it; the start-up only warns."""
    from bot.rag.knowledge_base import NO_EMBEDDER, KnowledgeBase
    from bot.rag.stores.lancedb_backend import LanceDBBackend
    from bot.run import warm_up_in_background

    (tmp_path / "store").write_text("a file where the store's folder should be")
    knowledge_base = KnowledgeBase(LanceDBBackend(tmp_path / "store", 384), None, NO_EMBEDDER)
    with caplog.at_level("INFO", logger="kbot.run"):
        warm_up_in_background(knowledge_base).join(timeout=60)
    [record] = [r for r in caplog.records if r.name == "kbot.run"]
    assert record.levelname == "WARNING" and "warming up the knowledge base failed (NotADirectoryError)" in (
        record.getMessage())
