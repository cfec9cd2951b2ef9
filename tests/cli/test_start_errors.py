"""When a platform says no at start-up, `kbot run` says so in one line that names the setting (and
the environment variable it reads), exits 2, and prints no traceback: a refused token, an API out
of reach, a port already taken. Against the fake platforms, through the real SDKs."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.http_site import closed_port_url
from tests.fakes.slack_server import APP_TOKEN, FakeSlack
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.processes import Finished, run_kbot

BASE = "data_dir: state\nembedder: {kind: none}\nllm: {kind: extractive}\nknowledge: {paths: []}\n"


def _run(tmp_path: Path, config: str, env: dict[str, str], port: int = 0) -> Finished:
    (tmp_path / "config.yaml").write_text(f"{BASE}server: {{port: {port}}}\n{config}")
    return run_kbot(["run"], tmp_path, env=env, timeout=120)


def _one_line(finished: Finished) -> str:
    assert finished.returncode == 2, finished.stderr
    assert "Traceback" not in finished.stderr and "FATAL" not in finished.stderr, finished.stderr
    kbot_lines = [line for line in finished.stderr.splitlines() if line.startswith("kbot: ")]
    assert len(kbot_lines) == 1, finished.stderr
    return kbot_lines[0]


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _telegram(tg_base: str, file_base: str) -> str:
    return (f"telegram:\n  enabled: true\n  token: ${{KBOT_TEST_TG}}\n  base_url: {tg_base}\n"
            f"  base_file_url: {file_base}\n")


def test_a_refused_telegram_token(tmp_path: Path) -> None:
    with FakeTelegram() as tg:
        line = _one_line(_run(tmp_path, _telegram(tg.api_base, tg.file_base), {"KBOT_TEST_TG": "1:wrong"}))
    assert "Telegram refused the bot token" in line and "telegram.token" in line and "$KBOT_TEST_TG" in line
    assert "1:wrong" not in line


def test_telegram_out_of_reach(tmp_path: Path) -> None:
    base = closed_port_url().rstrip("/")
    line = _one_line(_run(tmp_path, _telegram(f"{base}/bot", f"{base}/file/bot"), {"KBOT_TEST_TG": TOKEN}))
    assert "cannot reach the Bot API" in line and "telegram.base_url" in line and TOKEN not in line


def test_a_port_already_taken(tmp_path: Path, held_port: int) -> None:
    with FakeTelegram() as tg:
        finished = _run(tmp_path, _telegram(tg.api_base, tg.file_base), {"KBOT_TEST_TG": TOKEN}, port=held_port)
    line = _one_line(finished)
    assert f"port {held_port}" in line and "already in use" in line and "server.port" in line


def test_a_refused_slack_token(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        config = (f"slack:\n  enabled: true\n  bot_token: ${{KBOT_TEST_SLACK}}\n  app_token: {APP_TOKEN}\n"
                  f"  base_url: {slack.api_base}\n")
        line = _one_line(_run(tmp_path, config, {"KBOT_TEST_SLACK": "xoxb-revoked"}))
    assert "Slack refused the token in slack.bot_token (invalid_auth)" in line and "$KBOT_TEST_SLACK" in line


def test_a_refused_discord_token(tmp_path: Path) -> None:
    with FakeDiscord() as discord:
        config = f"discord:\n  enabled: true\n  token: ${{KBOT_TEST_DISCORD}}\n  base_url: {discord.api_base}\n"
        line = _one_line(_run(tmp_path, config, {"KBOT_TEST_DISCORD": "not-the-token"}))
    assert "Discord refused the bot token" in line and "discord.token" in line and "$KBOT_TEST_DISCORD" in line
