"""The coverage digest end to end: the week's figures and top gaps, with a chart image rendered
offline, posted to a configured channel (or the admins' DMs), once per period whatever runs it."""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from bot.app import App
from bot.insights.gaps import Area
from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram
from tests.fakes.telegram_server import TOKEN as TELEGRAM_TOKEN
from tests.support.bots import eventually, knowledge_bot, platform_settings, running_bot
from tests.support.platforms import GENERAL, GUILD, discord_final, discord_world, slack_final

UNKNOWN = "Which espresso beans does marketing prefer?"
ANSWERED = "How many vacation days do we get?"
NOTHING = "couldn't find anything"
FIGURES = "2 question(s), 1 answered from sources (50%)"


async def _both_recorded(app: App) -> None:
    """Figures are recorded after the answer lands; the digest is only asked once both are in."""
    await eventually(lambda: app.gaps.figures(Area(), 7).questions == 2, what="both questions recorded")


def _weekly(to: list[str]) -> dict:
    return {"digest": "weekly", "digest_to": to}


def _chart(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


def test_slack_digest_to_a_channel_once_a_week(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = platform_settings(make_settings, llm, analytics=_weekly(["slack:T1:C9"]), slack={
            "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
            "base_url": slack.api_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                asked = slack.mention("C1", ANSWERED)
                slack.deliver(asked)
                await eventually(lambda: slack_final(slack, "C1", asked["event"]["ts"]), what="the answer")
                slack.deliver(slack.mention("C1", UNKNOWN))
                await eventually(lambda: [m for m in slack.state.messages.values() if NOTHING in m.visible()],
                                 what="nothing found")
                await _both_recorded(app)
                assert running.digest is not None
                assert await running.digest.run_once() == 1
                [upload] = slack.state.uploads.values()
                assert upload["channel"] == "C9" and _chart(upload["data"]) == (900, 420)
                assert upload["comment"].startswith("kbot weekly digest") and FIGURES in upload["comment"]
                assert "espresso beans" in upload["comment"]
                assert await running.digest.run_once() == 0  # this week's digest went out already
            assert slack.state.rejected == []

        asyncio.run(scenario())


def test_discord_digest_to_a_channel(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        settings = platform_settings(make_settings, llm, analytics=_weekly([f"discord:{GUILD}:{GENERAL}"]),
                                     discord={"enabled": True, "token": DISCORD_TOKEN, "base_url": discord.api_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                asked = discord.user_message(GENERAL, ANSWERED, mention_bot=True)
                await eventually(lambda: discord_final(discord, GENERAL, asked["id"]), what="the answer")
                discord.user_message(GENERAL, UNKNOWN, mention_bot=True)
                await eventually(lambda: [m for m in discord.bot_messages(GENERAL) if NOTHING in m.content],
                                 what="nothing found")
                await _both_recorded(app)
                assert running.digest is not None and await running.digest.run_once() == 1
                [sent] = discord.state.files_sent
                assert sent["path"] == f"channels/{GENERAL}/messages" and sent["filename"] == "kbot-digest.png"
                assert _chart(sent["data"]) == (900, 420)
                assert "Last 7 days in this server" in sent["content"] and FIGURES in sent["content"]
            assert discord.state.rejected == []

        asyncio.run(scenario())


def test_telegram_digest_to_the_admins_private_chats(make_settings, llm) -> None:
    group, admin = -100777, 99
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, analytics=_weekly([]), telegram={
            "enabled": True, "token": TELEGRAM_TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
            "admins": [str(admin)]})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                for text in (ANSWERED, UNKNOWN):
                    sent = tg.user_message(group, f"@{BOT_USERNAME} {text}", chat_type="supergroup", user_id=5)
                    await eventually(lambda s=sent: [m for m in tg.bot_messages(group)
                                                     if m.reply_to == s["message"]["message_id"]
                                                     and (m.reply_markup or NOTHING in m.text)], what=text)
                await _both_recorded(app)
                assert running.digest is not None and await running.digest.run_once() == 1
                [photo] = tg.state.photos
                assert photo["chat_id"] == admin and _chart(photo["data"]) == (900, 420)
                [text] = [m.text for m in tg.bot_messages(admin)]
                assert text.startswith("kbot weekly digest") and FIGURES in text and "espresso beans" in text
            assert tg.state.rejected == []

        asyncio.run(scenario())
