"""Promise: a document is seen only where it was added, and a deleted one is gone everywhere.

A canary (a unique word) is uploaded in one place; no other chat, server or channel can retrieve
it, list it or have it sent to the model. After `/kb delete` it is in no file under `data_dir`:
not the store (old versions included), not the database (thread turns that quoted it included),
not the uploads folder.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, running_bot
from tests.support.platforms import discord_final, slack_final

CANARY = "ZEPHYR-7731"
DOC = f"# Project Falcon\n\nThe Falcon launch code word is {CANARY}. Only the Falcon team may use it.\n"
HOME, ELSEWHERE, ADMIN = -100111, -100222, 99


def _files_with(root: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes())


def test_a_telegram_upload_stays_in_its_chat_and_a_delete_leaves_nothing_on_disk(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        tg.state.chat_admins.add(ADMIN)
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", f" {CANARY}", " [1]", "."]

        async def say(chat: int, text: str, user: int = 5) -> list:
            sent = tg.user_message(chat, text, chat_type="supergroup", user_id=user)
            return await eventually(lambda: [m for m in tg.bot_messages(chat)
                                             if m.reply_to == sent["message"]["message_id"]
                                             and (m.reply_markup or not text.startswith("/ask"))], what=text)

        async def scenario() -> None:
            async with running_bot(app):
                upload = tg.user_document(HOME, "falcon.md", DOC.encode(), caption="/kb upload")
                await eventually(lambda: [m for m in tg.bot_messages(HOME) if m.text.startswith("✓")
                                          and m.reply_to == upload["message"]["message_id"]], timeout=30,
                                 what="the upload")
                assert CANARY in (await say(HOME, "/ask What is the Falcon launch code word?"))[0].text
                before = len(llm.chat_requests)
                elsewhere = (await say(ELSEWHERE, "/ask What is the Falcon launch code word?"))[0].text
                assert CANARY not in elsewhere and "falcon.md" not in elsewhere
                assert all(CANARY not in str(r) for r in llm.chat_requests[before:])
                assert "falcon.md" not in (await say(ELSEWHERE, "/kb list"))[0].text
                assert "falcon.md" in (await say(HOME, "/kb list"))[0].text

                data = settings.data_path
                on_disk = _files_with(data, CANARY.encode())
                assert any("lancedb" in p for p in on_disk)
                assert any(p.startswith("kbot.db") for p in on_disk)  # the stored upload, the remembered answer
                assert (await say(HOME, "/kb delete falcon.md", user=ADMIN))[0].text.startswith("Deleted falcon.md")
                assert _files_with(data, CANARY.encode()) == []
                gone = (await say(HOME, "/ask What is the Falcon launch code word?"))[0].text
                assert CANARY not in gone and "falcon.md" not in gone

        asyncio.run(scenario())


def test_a_discord_private_channel_keeps_its_upload_to_itself(make_settings, llm) -> None:
    guild, general, secret = "800000000000000001", "810000000000000001", "810000000000000002"
    with FakeDiscord() as discord:
        discord.add_guild(guild, {general: False, secret: True})
        settings = platform_settings(make_settings, llm, discord={
            "enabled": True, "token": DISCORD_TOKEN, "base_url": discord.api_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", f" {CANARY}", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app):
                discord.kb(secret, "upload", attachment=("falcon.md", DOC.encode()))
                await eventually(lambda: [m for m in discord.bot_messages(secret) if m.content.startswith("✓")],
                                 timeout=30, what="the upload")
                inside = discord.user_message(secret, "What is the Falcon launch code word?", mention_bot=True)
                assert CANARY in (await eventually(lambda: discord_final(discord, secret, inside["id"]))).content
                before = len(llm.chat_requests)
                outside = discord.user_message(general, "What is the Falcon launch code word?", mention_bot=True)
                answer = await eventually(lambda: discord_final(discord, general, outside["id"]), what="outside")
                assert CANARY not in answer.content and all(CANARY not in str(r) for r in llm.chat_requests[before:])

        asyncio.run(scenario())


GUILD, GENERAL, SECRET, TEAM, THREAD = ("800000000000000001", "810000000000000001", "810000000000000002",
                                        "810000000000000004", "810000000000000009")
CATEGORY = "810000000000000005"


def _private_place(discord: FakeDiscord, kind: str) -> tuple[str, str]:
    """One kind of place only part of the server can see: (where to upload, the place whose scope
    keeps it). A public thread is as private as its channel; a private thread is its own place."""
    discord.add_guild(GUILD, {GENERAL: False, SECRET: True, TEAM: False})
    if kind == "private thread in a public channel":
        return discord.add_thread(GENERAL, THREAD, private=True), THREAD
    if kind == "thread in a private channel":
        return discord.add_thread(SECRET, THREAD, private=False), SECRET
    if kind == "channel in a private category":
        discord.add_category(GUILD, CATEGORY, (TEAM,), private=True)
        return TEAM, TEAM
    assert kind == "channel hidden by role permissions"
    discord.hide_from_everyone(GUILD, staff_channels=(TEAM,), open_channels=(GENERAL,))
    return TEAM, TEAM


@pytest.mark.parametrize("kind", ["private thread in a public channel", "thread in a private channel",
                                  "channel in a private category", "channel hidden by role permissions"])
def test_discord_private_places_keep_uploads_and_saved_threads_to_themselves(make_settings, llm, kind) -> None:
    """Uploaded and saved inside; asked from the public channel: neither the answer nor the model's
    prompt holds any of it."""
    with FakeDiscord() as discord:
        place, keeper = _private_place(discord, kind)
        settings = platform_settings(make_settings, llm, discord={
            "enabled": True, "token": DISCORD_TOKEN, "base_url": discord.api_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", f" {CANARY}", " [1]", "."]
        said = f"Between us: the Falcon badge colour is {CANARY}-BLUE."

        async def scenario() -> None:
            async with running_bot(app) as running:
                discord.kb(place, "upload", attachment=("falcon.md", DOC.encode()))
                await eventually(lambda: [m for m in discord.bot_messages(place) if m.content.startswith("✓")],
                                 timeout=30, what="the upload")
                kb = running.service.conversation.knowledge_base
                kept = [s.scope for s in kb.sources([f"discord:{GUILD}", f"discord:{GUILD}:{place}",
                                                     f"discord:{GUILD}:{SECRET}"])]
                assert kept == [f"discord:{GUILD}:{keeper}"]  # never the server's
                if place == THREAD:
                    discord.user_message(THREAD, said)
                    discord.kb(THREAD, "save")
                    await eventually(lambda: len(kb.sources([f"discord:{GUILD}:{keeper}"])) == 2, what="the save")
                inside = discord.user_message(place, "What is the Falcon launch code word?", mention_bot=True)
                assert CANARY in (await eventually(lambda: discord_final(discord, place, inside["id"]))).content
                before = len(llm.chat_requests)
                outside = discord.user_message(GENERAL, "What is the Falcon launch code word? And the badge colour?",
                                               mention_bot=True)
                answer = await eventually(lambda: discord_final(discord, GENERAL, outside["id"]), what="outside")
                assert CANARY not in answer.content and all(CANARY not in str(r) for r in llm.chat_requests[before:])
            assert discord.state.rejected == []

        asyncio.run(scenario())


@pytest.mark.parametrize(("kind", "channel", "channel_type"), [
    ("private channel", "G7", "group"), ("group DM", "G8", "mpim"), ("DM", "D1", "im")])
def test_slack_private_places_keep_their_uploads(make_settings, llm, kind, channel, channel_type) -> None:
    with FakeSlack() as slack:
        slack.state.private_channels.add("G7")
        slack.state.group_dms.add("G8")
        settings = platform_settings(make_settings, llm, slack={
            "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "base_url": slack.api_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", f" {CANARY}", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                thread = None
                if channel_type != "im":  # in a channel, kbot takes files in a thread it answers in
                    first = slack.mention(channel, "How many vacation days do we get?")
                    slack.deliver(first)
                    thread = first["event"]["ts"]
                    await eventually(lambda: slack_final(slack, channel, thread), what="kbot's thread")
                slack.deliver(slack.share_file(channel, "falcon.md", DOC.encode(), channel_type=channel_type,
                                               thread_ts=thread))
                await eventually(lambda: [m for m in slack.state.messages.values()
                                          if m.channel == channel and m.text.startswith("✓")], timeout=30,
                                 what="the upload")
                kb = running.service.conversation.knowledge_base
                assert [s.scope for s in kb.sources() if s.scope != "global"] == [f"slack:T1:{channel}"]
                before = len(llm.chat_requests)
                asked = slack.mention("C1", "What is the Falcon launch code word?")
                slack.deliver(asked)
                reply = await eventually(lambda: slack_final(slack, "C1", asked["event"]["ts"]),
                                         what="the public answer")
                assert CANARY not in reply.visible()
                assert all(CANARY not in str(r) for r in llm.chat_requests[before:])

        asyncio.run(scenario())


@pytest.mark.parametrize(("kind", "chat", "chat_type", "topic"), [
    ("private chat", 4242, "private", None), ("forum topic", HOME, "supergroup", 7)])
def test_telegram_places_keep_their_uploads(make_settings, llm, kind, chat, chat_type, topic) -> None:
    """A Telegram chat is its own place (a forum topic is seen by the whole group): an upload made in a
    private chat or a group's topic never reaches another chat."""
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", f" {CANARY}", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app) as running:
                tg.user_document(chat, "falcon.md", DOC.encode(), caption="/kb upload", chat_type=chat_type,
                                          user_id=chat if chat > 0 else 5, thread_id=topic)
                done = await eventually(lambda: [m for m in tg.bot_messages(chat) if m.text.startswith("✓")],
                                        timeout=30, what="the upload")
                assert done[0].thread_id == topic
                kb = running.service.conversation.knowledge_base
                assert [s.scope for s in kb.sources() if s.scope != "global"] == [f"telegram:{chat}"]
                before = len(llm.chat_requests)
                sent = tg.user_message(ELSEWHERE, "/ask What is the Falcon launch code word?", chat_type="supergroup")
                reply = await eventually(lambda: [m for m in tg.bot_messages(ELSEWHERE)
                                                  if m.reply_to == sent["message"]["message_id"] and m.reply_markup],
                                         what="the answer elsewhere")
                assert CANARY not in reply[0].text
                assert all(CANARY not in str(r) for r in llm.chat_requests[before:])

        asyncio.run(scenario())


def test_a_private_channels_questions_stay_out_of_a_workspace_admins_gaps_elsewhere(make_settings, llm) -> None:
    """A Slack workspace admin who is not in a private channel runs /kb gaps in a public one: the private
    channel's unanswered question is counted, not shown; inside the private channel it is shown."""
    with FakeSlack() as slack:
        slack.state.private_channels.add("G7")
        slack.state.workspace_admins.add("UADMIN")
        settings = platform_settings(make_settings, llm, slack={
            "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "base_url": slack.api_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                asked = slack.mention("G7", f"What is the merger code name {CANARY}?")
                slack.deliver(asked)
                await eventually(lambda: slack_final(slack, "G7", asked["event"]["ts"]), what="the private answer")
                for channel in ("C1", "G7"):
                    slack.deliver(slack.slash(channel, "gaps", user="UADMIN", command="/kb"), kind="slash_commands")
                replies = await eventually(lambda: len(slack.state.ephemeral) == 2 and slack.state.ephemeral,
                                           what="both /kb gaps replies")
                public, private = (next(r["text"] for r in replies if r["channel"] == c) for c in ("C1", "G7"))
                assert CANARY not in public and "1 question(s) from private channels" in public
                assert CANARY in private

        asyncio.run(scenario())
