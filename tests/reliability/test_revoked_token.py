"""A token revoked while kbot runs: one log line naming the platform and the setting, no traceback
flood, and the other platforms keep answering."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.app import App
from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, running_bot
from tests.support.platforms import discord_world, slack_final


def _slack(slack: FakeSlack) -> dict[str, Any]:
    return {"enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
            "base_url": slack.api_base}


def _bot(make_settings, llm, tg: FakeTelegram, **other: dict[str, Any]) -> App:  # noqa: ANN001
    """Telegram and one other platform, on the fakes, with the handbook indexed."""
    telegram = {"enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base}
    return knowledge_bot(platform_settings(make_settings, llm, telegram=telegram, **other), {})


def test_a_revoked_telegram_token_is_one_line_and_slack_keeps_answering(make_settings, llm,  # noqa: ANN001
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    with FakeTelegram() as tg, FakeSlack() as slack:
        app = _bot(make_settings, llm, tg, slack=_slack(slack))

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                with caplog.at_level(logging.INFO):
                    tg.revoked = True
                    # Polling meets the 401: the failure must be said once, whatever follows.
                    await eventually(lambda: tg.unauthorized >= 1, what="a refused call")
                    envelope = slack.mention("C1", "How many vacation days do I get?")
                    slack.deliver(envelope)
                    answered = await eventually(lambda: slack_final(slack, "C1", envelope["event"]["ts"]),
                                                timeout=30, what="Slack's answer")
                    assert "25" in answered.visible()

        asyncio.run(scenario())
    telegram_lines = [r for r in caplog.records if r.levelno >= logging.WARNING
                      and "telegram" in (r.name + r.getMessage()).lower()]
    assert len(telegram_lines) == 1, [r.getMessage() for r in telegram_lines]
    assert "telegram.token" in telegram_lines[0].getMessage() and telegram_lines[0].exc_info is None
    assert not [r for r in caplog.records if r.exc_info]  # no traceback, from kbot or the library


def test_a_revoked_slack_app_is_one_line_and_telegram_keeps_answering(make_settings, llm,  # noqa: ANN001
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    with FakeTelegram() as tg, FakeSlack() as slack:
        app = _bot(make_settings, llm, tg, slack=_slack(slack))

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                with caplog.at_level(logging.INFO):
                    slack.revoked = True
                    slack.drop_connections()
                    refused = lambda: len(slack.method_calls("apps.connections.open"))  # noqa: E731
                    before = refused()
                    # slack_sdk checks its session every ping interval (10 s) and tries to reconnect.
                    await eventually(lambda: refused() >= before + 2, timeout=40, what="two reconnect attempts")
                    tg.user_message(7, "How many vacation days do I get?")
                    answered = await eventually(lambda: [m for m in tg.bot_messages(7) if m.reply_markup],
                                                timeout=30, what="Telegram's answer")
                    assert "25" in answered[0].text

        asyncio.run(scenario())
    slack_lines = [r for r in caplog.records if r.levelno >= logging.WARNING and "slack" in (r.name + r.getMessage())
                   and "installation_store" not in r.getMessage()]
    assert [r.getMessage() for r in slack_lines] == [
        "slack: Slack refused the app's token while kbot was running (token_revoked): Slack receives nothing until "
        "slack.app_token and slack.bot_token are valid again and kbot restarted; the other platforms go on"]
    assert not [r for r in caplog.records if r.exc_info]


def test_a_reset_discord_token_is_one_line_and_telegram_keeps_answering(make_settings, llm,  # noqa: ANN001
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    with FakeTelegram() as tg, FakeDiscord() as discord:
        discord_world(discord)
        app = _bot(make_settings, llm, tg, discord={"enabled": True, "token": DISCORD_TOKEN,
                                                    "base_url": discord.api_base})

        async def scenario() -> None:
            async with running_bot(app) as running:
                with caplog.at_level(logging.INFO):
                    discord.revoke_token()
                    await eventually(lambda: any("Discord refused the bot token" in r.getMessage()
                                                 for r in caplog.records), what="the one line")
                    [gone] = [a for a in running.adapters if a.name == "discord"]
                    assert not await gone.ready()  # /readyz says Discord is down
                    tg.user_message(7, "How many vacation days do I get?")
                    answered = await eventually(lambda: [m for m in tg.bot_messages(7) if m.reply_markup],
                                                timeout=30, what="Telegram's answer")
                    assert "25" in answered[0].text

        asyncio.run(scenario())
    discord_lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
                     and "discord" in (r.name + r.getMessage()).lower()]
    assert discord_lines == [
        "discord: Discord refused the bot token while kbot was running (reset or revoked?): Discord receives nothing "
        "until discord.token is valid again and kbot restarted; the other platforms go on"]
    assert not [r for r in caplog.records if r.exc_info]
