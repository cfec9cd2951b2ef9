"""Each platform's test world: the settings that point kbot at its fake, the places the fake holds, and how
a test finds kbot's final answer there. Shared by every test that talks to a platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from bot.adapters.slack.settings import SlackSettings
from bot.adapters.telegram.settings import TelegramSettings
from bot.config import Settings
from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import DiscordMessage, FakeDiscord
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackMessage
from tests.fakes.telegram_server import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram_server import FakeTelegram, SentMessage
from tests.support.bots import platform_settings

MakeSettings = Callable[..., Settings]

# Discord: two guilds; SECRET is private (@everyone may not view it).
GUILD = "800000000000000001"
OTHER_GUILD = "800000000000000002"
GENERAL = "810000000000000001"
SECRET = "810000000000000002"
ELSEWHERE = "810000000000000003"

# Telegram: a private chat and two groups.
PRIVATE = 4242
GROUP = -100777
OTHER_GROUP = -100888


def discord_settings(make_settings: MakeSettings, llm: FakeOpenAI, discord: FakeDiscord, **extra: Any) -> Settings:
    return platform_settings(make_settings, llm, discord={"enabled": True, "token": DISCORD_TOKEN,
                                                          "base_url": discord.api_base, **extra})


def discord_world(discord: FakeDiscord) -> None:
    discord.add_guild(GUILD, {GENERAL: False, SECRET: True})
    discord.add_guild(OTHER_GUILD, {ELSEWHERE: False})


def discord_final(discord: FakeDiscord, channel: str, reference: str | None = None) -> DiscordMessage | None:
    """kbot's finished answer in a channel (the one with feedback buttons), to a message if given."""
    for message in discord.bot_messages(channel):
        if message.components and (reference is None or message.reference == reference):
            return message
    return None


def slack_settings(make_settings: MakeSettings, llm: FakeOpenAI, slack: FakeSlack, **extra: Any) -> Settings:
    return platform_settings(make_settings, llm, slack={
        "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
        "base_url": slack.api_base, **extra})


def slack_section(settings: Settings) -> SlackSettings:
    return cast(SlackSettings, settings.platform("slack"))


def slack_final(slack: FakeSlack, channel: str, thread_ts: str) -> SlackMessage | None:
    """kbot's finished answer in a thread (the one with feedback actions)."""
    for message in slack.thread_replies(channel, thread_ts):
        if any(b.get("type") == "actions" for b in message.blocks):
            return message
    return None


def telegram_settings(make_settings: MakeSettings, llm: FakeOpenAI, tg: FakeTelegram, **sections: Any) -> Settings:
    return platform_settings(make_settings, llm, telegram={
        "enabled": True, "token": TELEGRAM_TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base},
        **sections)


def telegram_section(settings: Settings) -> TelegramSettings:
    return cast(TelegramSettings, settings.platform("telegram"))


def telegram_final(tg: FakeTelegram, chat: int, question_id: int | None = None) -> SentMessage | None:
    """kbot's finished answer in a chat (the one with feedback buttons), to a question if given."""
    for message in tg.bot_messages(chat):
        if message.reply_markup and (question_id is None or message.reply_to == question_id):
            return message
    return None
