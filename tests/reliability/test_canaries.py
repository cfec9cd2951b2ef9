"""Promise: a document is seen only where it was added, and a deleted one is gone everywhere.

A canary (a unique word) is uploaded in one place; no other chat, server or channel can retrieve
it, list it or have it sent to the model. After `/kb delete` it is in no file under `data_dir`:
not the store (old versions included), not the database (thread turns that quoted it included),
not the uploads folder.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.adapters.test_discord import _final as discord_final
from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, running_bot

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
