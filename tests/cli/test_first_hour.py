"""The README's path, with only what it says: `kbot init --platform telegram --yes`, `kbot doctor`
(✗ on a wrong token in one line, ✓ on the right one, against the fake Telegram), `kbot ingest`,
`kbot run`, the pairing code approved with `kbot approve`, and a question answered with a citation."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.clock import REAL
from tests.support.paths import REPO
from tests.support.processes import KbotChild, run_kbot

CHAT = 4242


def _wait_for(predicate, what: str, process: KbotChild, timeout: float = 60):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        assert process.poll() is None, process.output()[1]
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {timeout:g} s: {process.output()[1][-2000:]}")


def test_init_doctor_run_and_a_cited_answer(tmp_path: Path) -> None:
    with FakeTelegram(clock=REAL) as tg:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "TELEGRAM_BASE_URL": tg.api_base,
               "TELEGRAM_BASE_FILE_URL": tg.file_base}
        init = run_kbot(["init", "--platform", "telegram", "--yes"], tmp_path, env=env)
        assert init.returncode == 1  # the token is not set yet: doctor says which variable
        assert "TELEGRAM_BOT_TOKEN" in init.stdout and "@BotFather" in init.stdout
        assert (tmp_path / "config.yaml").exists() and (tmp_path / ".env").read_text() == "TELEGRAM_BOT_TOKEN=\n"

        wrong = run_kbot(["doctor"], tmp_path, env={**env, "TELEGRAM_BOT_TOKEN": "1:wrong"})
        assert wrong.returncode == 1 and "Traceback" not in wrong.stdout + wrong.stderr
        failed = [line for line in wrong.stdout.splitlines() if line.startswith("✗")]
        assert failed == ["✗ telegram: Telegram refused the bot token — check it with @BotFather and set "
                          "telegram.token"]
        right = run_kbot(["doctor"], tmp_path, env={**env, "TELEGRAM_BOT_TOKEN": TOKEN})
        assert right.returncode == 0, right.stdout
        assert "✓ telegram: connected as @" in right.stdout and "✗" not in right.stdout

        env["TELEGRAM_BOT_TOKEN"] = TOKEN
        shutil.copytree(REPO / "knowledge", tmp_path / "knowledge")
        assert run_kbot(["ingest"], tmp_path, env=env).returncode == 0
        (tmp_path / "config.yaml").write_text((tmp_path / "config.yaml").read_text() + "server: {port: 0}\n")
        process = KbotChild(["run"], tmp_path, env=env)
        try:
            tg.user_message(CHAT, "How many vacation days do I get?")
            pairing = _wait_for(lambda: [m for m in tg.bot_messages(CHAT) if "kbot approve" in m.text],
                                "pairing code", process)
            code = re.search(r"kbot approve ([A-Z0-9-]+)", pairing[0].text)
            assert code is not None
            assert run_kbot(["approve", code.group(1)], tmp_path, env=env).returncode == 0
            tg.user_message(CHAT, "How many vacation days do I get?")
            answers = _wait_for(lambda: [m for m in tg.bot_messages(CHAT) if m.reply_markup], "answer", process)
            assert "25 vacation days" in answers[0].text and "Sources" in answers[0].text
            assert "Time off" in answers[0].text  # the handbook's page, cited
        finally:
            process.kill()
            process.wait(10)


def test_init_prints_the_slack_manifest_and_the_discord_invite(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    import base64

    from bot.adapters.discord.settings import PERMISSIONS
    from bot.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".x.y")
    assert main(["init", "--platform", "slack", "--platform", "discord", "--yes"]) == 1  # tokens not all set
    out = capsys.readouterr().out
    assert "oauth_config:" in out and "connections:write" in out  # the manifest itself
    assert (f"https://discord.com/oauth2/authorize?client_id=123456789012345678&scope=bot%20applications.commands"
            f"&permissions={sum(PERMISSIONS.values())}") in out
    config = (tmp_path / "config.yaml").read_text()
    assert "${SLACK_BOT_TOKEN}" in config and "${DISCORD_BOT_TOKEN}" in config and "kind: extractive" in config
    assert main(["init", "--yes"]) == 1  # a second run does not overwrite the config
    assert "already exists" in capsys.readouterr().err


def test_init_force_replaces_a_broken_config(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from bot.cli.main import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text("retrieval: [unclosed\n")
    assert main(["status"]) == 2  # any other command refuses it, naming the problem
    assert main(["init", "--force", "--yes"]) == 0
    assert "kind: extractive" in (tmp_path / "config.yaml").read_text()
    assert "✓ llm: extractive" in capsys.readouterr().out


def test_init_refuses_what_it_cannot_use_in_one_line(tmp_path: Path) -> None:
    """No terminal to ask in, or a platform kbot does not know: one line that says what to do, no file written."""
    asked = run_kbot(["init"], tmp_path, input="telegram\n")
    assert asked.returncode == 1 and "Traceback" not in asked.stderr
    assert "run it in a terminal, or pass --platform, --llm and --yes" in asked.stderr
    unknown = run_kbot(["init", "--platform", "slak", "--yes"], tmp_path)
    assert unknown.returncode == 2 and "invalid choice: 'slak'" in unknown.stderr
    assert not (tmp_path / "config.yaml").exists()
