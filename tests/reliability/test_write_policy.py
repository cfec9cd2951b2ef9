"""Promise: everything kbot writes to a platform is safe to show a whole community: no link
previews or unfurls, no mass mention that pings.

Every platform fake audits every write it receives (tests/fakes: `FakePlatform.policy_violations`)
and fails the test that caused a bad one, so every test in the suite enforces this. Here each write
path is driven with hostile text (links and mass mentions from the model and from a document), and
the audit itself is shown to catch a write that forgets.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, quiet_for, running_bot

HOSTILE = ["@everyone", " @here", " <!channel>", " see https://evil.example/x", " and [1]."]
DOC = "# Links\n\nThe wiki moved: @everyone read https://wiki.example/new before Friday. @here too.\n"
GUILD, CHANNEL = "800000000000000001", "810000000000000001"


def test_discord_every_write_path_suppresses_embeds_and_mentions(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord.add_guild(GUILD, {CHANNEL: False})
        settings = platform_settings(make_settings, llm, discord={
            "enabled": True, "token": DISCORD_TOKEN, "base_url": discord.api_base})
        app = knowledge_bot(settings, {f"discord:{GUILD}": "links.md"})
        llm.reply_tokens = list(HOSTILE)

        async def scenario() -> None:
            async with running_bot(app):
                mention = discord.user_message(CHANNEL, "how many vacation days?", mention_bot=True)
                final = await eventually(lambda: [m for m in discord.bot_messages(CHANNEL)
                                                  if m.reference == mention["id"] and m.components], what="answer")
                discord.click(final[0], final[0].components[0]["components"][0]["custom_id"])  # the 👍 ack
                discord.slash(CHANNEL, "vacation days? https://evil.example/y @everyone")  # /ask: the interaction path
                discord.kb(CHANNEL, "status")  # an ephemeral command reply
                discord.kb(CHANNEL, "upload", attachment=("links.md", DOC.encode()))  # progress edits
                await eventually(lambda: [m for m in discord.bot_messages(CHANNEL) if m.content.startswith("✓")],
                                 timeout=30, what="the upload's end")
                await eventually(lambda: len(llm.chat_requests) >= 2, what="the /ask answer")
                await eventually(lambda: sum(1 for m in discord.bot_messages(CHANNEL) if m.components) >= 2,
                                 what="the /ask final")
        asyncio.run(scenario())
        assert discord.writes_checked >= 8 and discord.policy_violations == []


def test_slack_every_write_path_keeps_unfurls_off_and_mentions_defused(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = platform_settings(make_settings, llm, slack={
            "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
            "base_url": slack.api_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = list(HOSTILE)

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the connection")
                slack.deliver(slack.mention("C1", "vacation days? @here <!channel>"))
                ask = slack.slash("C1", "vacation days for @everyone https://evil.example")
                slack.deliver(ask, kind="slash_commands")
                slack.deliver(slack.slash("C1", "status", command="/kb"), kind="slash_commands")
                slack.deliver(slack.share_file("D1", "links.md", DOC.encode()))
                await eventually(lambda: [m for m in slack.state.messages.values() if m.text.startswith("✓")],
                                 timeout=30, what="the upload's end")
                await eventually(lambda: len(llm.chat_requests) >= 2, what="both answers")
                await quiet_for(1)
        asyncio.run(scenario())
        assert slack.writes_checked >= 6 and slack.policy_violations == []


def test_telegram_every_message_has_previews_off(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = list(HOSTILE)

        async def scenario() -> None:
            async with running_bot(app):
                tg.user_message(-100, "/ask vacation days? https://evil.example", chat_type="supergroup")
                tg.user_message(-100, "/kb help", chat_type="supergroup")
                tg.user_document(-100, "links.md", DOC.encode(), caption="/kb upload")
                tg.user_message(-100, "/start", chat_type="supergroup")
                await eventually(lambda: [m for m in tg.bot_messages(-100) if m.text.startswith("✓")], timeout=30,
                                 what="the upload's end")
                await eventually(lambda: [m for m in tg.bot_messages(-100) if m.reply_markup], what="the answer")
        asyncio.run(scenario())
        assert tg.writes_checked >= 5 and tg.policy_violations == []
        assert all("@everyone" not in m.text for m in tg.bot_messages(-100))


def test_the_audit_catches_a_write_that_forgets() -> None:
    """The same fakes flag a plain write: a client that skips the rules cannot pass unnoticed."""

    async def forgetful_writes(slack: FakeSlack, discord: FakeDiscord, tg: FakeTelegram) -> None:
        async with aiohttp.ClientSession() as http:
            await http.post(f"{slack.api_base}chat.postMessage", headers={"Authorization": f"Bearer {BOT_TOKEN}"},
                            json={"channel": "C1", "text": "see https://x.example"})
            await http.post(f"{discord.api_base}/channels/{CHANNEL}/messages",
                            headers={"Authorization": f"Bot {DISCORD_TOKEN}"}, json={"content": "https://x.example"})
            await http.post(f"{tg.api_base}{TOKEN}/sendMessage", json={"chat_id": 1, "text": "https://x.example"})

    with FakeSlack() as slack, FakeDiscord() as discord, FakeTelegram() as tg:
        discord.add_guild(GUILD, {CHANNEL: False})
        asyncio.run(forgetful_writes(slack, discord, tg))
        caught = [slack.policy_violations, discord.policy_violations, tg.policy_violations]
        assert all(caught), caught
        for fake in (slack, discord, tg):
            with pytest.raises(AssertionError, match="community rule"):
                fake.check_policy()
            fake.policy_violations.clear()
