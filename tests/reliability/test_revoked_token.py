"""A token revoked while kbot runs: one log line naming the platform and the setting, no traceback
flood, and the other platforms keep answering."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, running_bot
from tests.support.platforms import slack_final


def test_a_revoked_telegram_token_is_one_line_and_slack_keeps_answering(make_settings, llm,  # noqa: ANN001
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    with FakeTelegram() as tg, FakeSlack() as slack:
        settings = platform_settings(
            make_settings, llm,
            telegram={"enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base},
            slack={"enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
                   "base_url": slack.api_base})
        app = knowledge_bot(settings, {})

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
