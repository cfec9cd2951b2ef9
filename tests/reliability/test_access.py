"""Promise: a stranger who finds the bot gets nothing from the team's knowledge or its LLM bill.

By default (`access: pairing`) kbot answers only where config lists it, in the Slack workspace that
installed it, in its admins' own DMs, and in places an admin approved. Anywhere else, the first
message gets one short reply with a pairing code, and nothing else happens until an admin runs
`kbot approve CODE` or `/kb approve CODE` from a place kbot serves.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, quiet_for, running_bot
from tests.support.platforms import discord_final, slack_final

OPERATOR = 99  # in telegram.admins
STRANGER_GROUP = -100404
LISTED_GROUP = -100200
CODE = re.compile(r"kbot approve ([A-Z0-9]{4}-[A-Z0-9]{4})")


def _cli_config(tmp_path: Path, settings) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "cli-config.yaml"
    path.write_text(f"data_dir: {settings.data_path}\nembedder: {{kind: none}}\n")
    return str(path)


def _replies(tg: FakeTelegram, chat: int, update: dict) -> list:
    return [m for m in tg.bot_messages(chat) if m.reply_to == update["message"]["message_id"]]


def test_telegram_strangers_get_one_code_and_an_admin_approves_it(make_settings, llm, tmp_path: Path,
                                                                  capsys, caplog) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
            "access": "pairing", "admins": [OPERATOR], "allowed_chats": [LISTED_GROUP]})
        app = knowledge_bot(settings, {})
        config = _cli_config(tmp_path, settings)
        caplog.set_level(logging.INFO, logger="kbot.run")

        async def ask(chat: int, text: str = "/ask How many vacation days do we get?", user: int = 5) -> dict:
            return tg.user_message(chat, text, chat_type="supergroup" if chat < 0 else "private", user_id=user)

        async def scenario() -> None:
            async with running_bot(app):
                first = await ask(STRANGER_GROUP)
                reply = await eventually(lambda: _replies(tg, STRANGER_GROUP, first), what="the pairing reply")
                code = CODE.search(reply[0].text).group(1)  # type: ignore[union-attr]
                assert len(reply[0].text) < 250 and "25 vacation" not in reply[0].text
                for _ in range(3):  # more questions: no more replies, no model calls
                    await ask(STRANGER_GROUP)
                listing = await ask(STRANGER_GROUP, "/kb list")  # a command hears the code again
                assert code in (await eventually(lambda: _replies(tg, STRANGER_GROUP, listing), what="list"))[0].text
                await quiet_for(1)
                assert len(tg.bot_messages(STRANGER_GROUP)) == 2 and llm.chat_requests == []

                # Listed in config, and the admin's own private chat: answered.
                listed = await ask(LISTED_GROUP)
                await eventually(lambda: [m for m in _replies(tg, LISTED_GROUP, listed) if m.reply_markup],
                                 what="the listed group's answer")
                # A chat administrator elsewhere is not kbot's admin: /kb approve is refused.
                tg.state.chat_admins.add(7)
                refused = await ask(LISTED_GROUP, f"/kb approve {code}", user=7)
                text = (await eventually(lambda: _replies(tg, LISTED_GROUP, refused), what="refusal"))[0].text
                assert "Only kbot's own admins" in text

                # `kbot access` shows the waiting code; the admin approves from their private chat.
                assert main(["--config", config, "access"]) == 0
                assert code in capsys.readouterr().out
                await ask(OPERATOR, f"/kb approve {code}", user=OPERATOR)
                done = await eventually(lambda: tg.bot_messages(OPERATOR), what="the approval")  # private: no quote
                assert done[0].text.startswith("Approved") and str(STRANGER_GROUP) in done[0].text
                again = await ask(STRANGER_GROUP)
                answer = await eventually(lambda: [m for m in _replies(tg, STRANGER_GROUP, again) if m.reply_markup],
                                          what="the approved group's answer")
                assert "25 vacation days" in answer[0].text

                assert main(["--config", config, "revoke", f"telegram:{STRANGER_GROUP}"]) == 0
                capsys.readouterr()
                before = len(llm.chat_requests)
                await ask(STRANGER_GROUP)
                await quiet_for(1)
                assert len(llm.chat_requests) == before
            log = "\n".join(r.getMessage() for r in caplog.records)
            assert "access: telegram: answers in" in log and str(LISTED_GROUP) in log and "pairing code" in log

        asyncio.run(scenario())


def test_the_cli_approves_a_code_and_refuses_an_unknown_one(make_settings, llm, tmp_path: Path, capsys) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
            "access": "pairing"})
        app = knowledge_bot(settings, {})
        config = _cli_config(tmp_path, settings)

        async def scenario() -> None:
            async with running_bot(app):
                tg.user_message(555, "How many vacation days do we get?")  # a stranger's private chat
                code = CODE.search((await eventually(lambda: tg.bot_messages(555), what="code"))[0].text)
                assert main(["--config", config, "approve", "ZZZZ-ZZZZ"]) == 1
                assert "no place is waiting" in capsys.readouterr().err
                assert main(["--config", config, "approve", code.group(1).lower().replace("-", "")]) == 0  # type: ignore[union-attr]
                assert "approved telegram:555" in capsys.readouterr().out
                tg.user_message(555, "How many vacation days do we get?")
                await eventually(lambda: [m for m in tg.bot_messages(555) if m.reply_markup], what="answer")

        asyncio.run(scenario())


def test_discord_servers_and_dms_need_approval_unless_listed(make_settings, llm) -> None:
    guild, listed, channel, listed_channel = "800000000000000001", "800000000000000002", "810000000000000001", \
        "810000000000000002"
    admin, stranger = "700000000000000001", "700000000000000005"
    with FakeDiscord() as discord:
        discord.add_guild(guild, {channel: False})
        discord.add_guild(listed, {listed_channel: False})
        settings = platform_settings(make_settings, llm, discord={
            "enabled": True, "token": DISCORD_TOKEN, "base_url": discord.api_base, "access": "pairing",
            "allowed_servers": [listed], "admins": [admin]})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                question = discord.user_message(channel, "How many vacation days do we get?", mention_bot=True,
                                                user_id=stranger)
                reply = await eventually(lambda: discord.bot_messages(channel), what="the pairing reply")
                assert CODE.search(reply[0].content) and reply[0].reference == question["id"]
                discord.slash(channel, "How many vacation days do we get?", user_id=stranger)
                refused = await eventually(lambda: [r for r in discord.state.interaction_responses
                                                    if r.get("type") == 4], what="the /ask refusal")
                assert refused[0]["data"]["flags"] & 64  # ephemeral: only the asker sees it
                listed_q = discord.user_message(listed_channel, "How many vacation days do we get?",
                                                mention_bot=True, user_id=stranger)
                await eventually(lambda: discord_final(discord, listed_channel, listed_q["id"]), what="listed")
                stranger_dm = discord.dm_channel(stranger)
                discord.user_message(stranger_dm, "How many vacation days do we get?", user_id=stranger)
                dm_reply = await eventually(lambda: discord.bot_messages(stranger_dm), what="the DM pairing reply")
                assert CODE.search(dm_reply[0].content)
                admin_dm = discord.dm_channel(admin)
                asked = discord.user_message(admin_dm, "How many vacation days do we get?", user_id=admin)
                await eventually(lambda: discord_final(discord, admin_dm, asked["id"]), what="the admin's DM")
                assert len(llm.chat_requests) == 2

        asyncio.run(scenario())


@pytest.mark.parametrize("mode", ["pairing", "allowlist"])
def test_slack_serves_its_own_workspace_and_pairs_or_ignores_others(make_settings, llm, mode: str) -> None:
    with FakeSlack() as slack:
        settings = platform_settings(make_settings, llm, slack={
            "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
            "base_url": slack.api_base, "access": mode})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the connection")
                home = slack.mention("C1", "How many vacation days do we get?")  # T1 installed the app
                slack.deliver(home)
                await eventually(lambda: slack_final(slack, "C1", home["event"]["ts"]), what="home answer")
                other = slack.mention("C7", "How many vacation days do we get?", team="T9")
                slack.deliver(other)
                if mode == "pairing":
                    reply = await eventually(lambda: slack.thread_replies("C7", other["event"]["ts"]),
                                             what="the pairing reply")
                    assert CODE.search(reply[0].visible())
                else:
                    await quiet_for(1)
                    assert slack.thread_replies("C7", other["event"]["ts"]) == []
                assert len(llm.chat_requests) == 1

        asyncio.run(scenario())


def test_pairing_guesses_are_throttled_even_for_kbots_own_admins(make_settings, llm) -> None:
    """A kbot admin's account can be taken over too: six wrong codes in a minute, and the sixth (and
    a right one after it) is refused with when to try again; nothing is approved by guessing."""
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
            "access": "pairing", "admins": [OPERATOR]})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                first = tg.user_message(STRANGER_GROUP, "/ask hello?", chat_type="supergroup", user_id=5)
                reply = await eventually(lambda: _replies(tg, STRANGER_GROUP, first), what="the pairing reply")
                code = CODE.search(reply[0].text).group(1)  # type: ignore[union-attr]
                answers = []
                for guess in [f"AAAA-{n:04d}" for n in range(5)] + [code]:
                    sent = tg.user_message(OPERATOR, f"/kb approve {guess}", user_id=OPERATOR)
                    answers.append((await eventually(lambda s=sent: [m for m in tg.bot_messages(OPERATOR)
                                                                     if m.reply_to == s["message"]["message_id"]
                                                                     or m.message_id > s["message"]["message_id"]],
                                                     what="the reply"))[-1].text)
                assert all(a.startswith("No place is waiting") for a in answers[:5])
                assert answers[5].startswith("Too many codes tried")
                assert app.access.approved() == []

        asyncio.run(scenario())
