"""`kbot doctor` on each platform, against the fakes: a ✓ line when the platform accepts kbot, one
✗ line with the setting to fix when it does not; the Slack scopes kbot asks for are manifest.yaml's."""

from __future__ import annotations

import yaml

from bot.adapters.slack.doctor import SCOPES
from bot.cli.doctor import run_checks
from bot.wiring import parse_settings
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.support.paths import REPO
from tests.support.platforms import discord_settings, slack_settings


def _lines(settings) -> list[str]:  # noqa: ANN001
    shown: list[str] = []
    run_checks(settings, None, show=shown.append)
    return shown


def test_slack_accepted_and_refused(make_settings, llm) -> None:  # noqa: ANN001
    with FakeSlack() as slack:
        ok = _lines(slack_settings(make_settings, llm, slack))
        assert any(line.startswith("✓ slack: connected as kbot") for line in ok), ok
        assert "✓ slack: the app-level token opens Socket Mode" in ok
        wrong = _lines(slack_settings(make_settings, llm, slack, bot_token="xoxb-revoked"))
        failed = [line for line in wrong if line.startswith("✗")]
        assert failed == ["✗ slack: Slack refused the token in slack.bot_token (invalid_auth) — copy it again "
                          "from the app's settings page"]


def test_discord_accepted_and_refused(make_settings, llm) -> None:  # noqa: ANN001
    with FakeDiscord() as discord:
        ok = _lines(discord_settings(make_settings, llm, discord))
        assert any(line.startswith("✓ discord: logged in as") for line in ok), ok
        assert "✓ discord: the Message Content intent is on" in ok and not [line for line in ok if "✗" in line]
        discord.message_content_intent = False
        off = _lines(discord_settings(make_settings, llm, discord))
        assert [line for line in off if line.startswith("✗")] == [
            "✗ discord: the Message Content intent is off — turn it on under Bot → Privileged Gateway Intents "
            "(kbot reads the questions)"]
        discord.message_content_intent = True
        wrong = _lines(discord_settings(make_settings, llm, discord, token="not-the-token"))
        assert [line for line in wrong if line.startswith("✗")] == [
            "✗ discord: Discord refused the bot token — reset it under Bot in the developer portal and set "
            "discord.token"]


def test_the_core_checks_pass_on_the_default_and_say_so(tmp_path) -> None:  # noqa: ANN001
    settings = parse_settings({"data_dir": str(tmp_path / "data"), "embedder": {"kind": "none"},
                               "llm": {"kind": "extractive"}}, root=tmp_path)
    lines = _lines(settings)
    assert [line.split(":")[0] for line in lines] == ["✓ config", "✓ database", "✓ store", "✓ embedder", "✓ llm",
                                                       "✓ platforms"]


def test_slacks_needed_scopes_are_the_manifests() -> None:
    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text(encoding="utf-8"))
    assert set(SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
