"""`/kb save` end to end: a thread (question, kbot's answer, people's replies) becomes a document in
that place's knowledge, cited with the thread's link; saving again replaces it."""

from __future__ import annotations

import asyncio

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, running_bot
from tests.support.platforms import (
    GENERAL,
    GUILD,
    discord_final,
    discord_settings,
    discord_world,
    slack_final,
    slack_settings,
    telegram_settings,
)

REPLY = "Contractors get 20 days instead, per the 2026 contractor agreement."


def test_slack_kb_save_in_a_thread(make_settings, llm) -> None:
    with FakeSlack() as slack:
        app = knowledge_bot(slack_settings(make_settings, llm, slack), {})

        def said_in(_ts: str, needle: str) -> list[str]:  # the save's reply is for the person who saved
            return [e["text"] for e in slack.state.ephemeral if needle in e["text"]]

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                asked = slack.mention("C1", "How many vacation days do we get?")
                root = asked["event"]["ts"]
                slack.deliver(asked)
                await eventually(lambda: slack_final(slack, "C1", root), what="the answer")
                slack.deliver(slack.message("C1", REPLY, user="U2", thread_ts=root))
                await eventually(lambda: len(llm.chat_requests) >= 3, what="the reply's answer")
                await eventually(lambda: len([m for m in slack.thread_replies("C1", root) if m.stream_closed]) == 2,
                                 what="the second answer")
                slack.deliver(slack.message("C1", "kb save", thread_ts=root))
                [saved] = await eventually(lambda: said_in(root, "Saved this thread"), what="the save")
                link = f"https://test.slack.com/archives/C1/p{root.replace('.', '')}"
                assert link in saved and "4 messages" in saved
                kb = running.service.conversation.knowledge_base
                [hit] = kb.search("contractor agreement", ["slack:T1"], top_k=1)
                assert hit.meta["source"] == link and hit.meta["url"] == link
                assert "person U2" in hit.content and "20 days" in hit.content

                slack.deliver(slack.message("C1", "kb save", thread_ts=root))
                await eventually(lambda: said_in(root, "already saved"), what="the unchanged save")
                slack.deliver(slack.slash("C1", "list", command="/kb"), kind="slash_commands")
                listing = await eventually(lambda: [e["text"] for e in slack.state.ephemeral
                                                    if "answerable" in e["text"]], what="/kb list")
                assert link in listing[0]

                slack.deliver(slack.message("C1", "Update: contractors now get 22 days.", user="U2", thread_ts=root))
                await eventually(lambda: len([m for m in slack.thread_replies("C1", root) if m.stream_closed]) == 3,
                                 what="the third answer")
                slack.deliver(slack.message("C1", "kb save", thread_ts=root))
                await eventually(lambda: len(said_in(root, "Saved this thread")) == 2, what="the second save")
                assert [info.source for info in kb.sources(["slack:T1"])].count(link) == 1  # replaced, not added
                assert any("22 days" in d.content for d in kb.search("contractors 22 days", ["slack:T1"], top_k=3))

                question = slack.message("D1", "kb articles on vacation days?", channel_type="im")
                slack.deliver(question)  # starts with "kb" but names no command: a question all the same
                await eventually(lambda: slack_final(slack, "D1", question["event"]["ts"]), what="the DM answer")
            assert slack.state.rejected == []

        asyncio.run(scenario())


def test_discord_kb_save_in_kbots_thread(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        app = knowledge_bot(discord_settings(make_settings, llm, discord, thread_per_question=True), {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                question = discord.user_message(GENERAL, "How many vacation days do we get?", mention_bot=True)
                thread = question["id"]
                await eventually(lambda: discord_final(discord, thread), what="the answer in the thread")
                discord.user_message(thread, REPLY, user_id="700000000000000002")
                await eventually(lambda: len([m for m in discord.bot_messages(thread) if m.components]) == 2,
                                 what="the reply's answer")
                discord.kb(GENERAL, "save")  # outside a thread: how to use it
                discord.kb(thread, "save")
                saved = await eventually(lambda: [m.content for m in discord.state.messages.values()
                                                  if m.content.startswith("Saved this thread")], what="the save")
                link = f"https://discord.com/channels/{GUILD}/{thread}"
                assert link in saved[0]
                assert any("Run /kb save inside the thread" in m.content for m in discord.state.messages.values())
                kb = running.service.conversation.knowledge_base
                [hit] = kb.search("contractor agreement", [f"discord:{GUILD}"], top_k=1)
                assert hit.meta["source"] == link and "20 days" in hit.content
            assert discord.state.rejected == []

        asyncio.run(scenario())


def test_telegram_kb_save_as_a_reply_keeps_what_kbot_remembers(make_settings, llm) -> None:
    group = -100777
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        def answers() -> list:
            return [m for m in tg.bot_messages(group) if m.reply_markup]

        async def scenario() -> None:
            async with running_bot(app) as running:
                asked = tg.user_message(group, f"@{BOT_USERNAME} how many vacation days do we get?",
                                        chat_type="supergroup", user_id=5)
                first = (await eventually(answers, what="the answer"))[0]
                tg.user_message(group, REPLY, chat_type="supergroup", user_id=6, reply_to=first.message_id)
                await eventually(lambda: len(answers()) == 2, what="the reply's answer")
                command = tg.user_message(group, "/kb save", chat_type="supergroup", user_id=6,
                                          reply_to=answers()[1].message_id)
                saved = await eventually(lambda: [m.text for m in tg.bot_messages(group)
                                                  if m.reply_to == command["message"]["message_id"]], what="the save")
                link = f"https://t.me/c/777/{asked['message']['message_id']}"
                assert saved[0].startswith("Saved this thread (4 messages") and link in saved[0]
                kb = running.service.conversation.knowledge_base
                [hit] = kb.search("contractor agreement", [f"telegram:{group}"], top_k=1)
                assert hit.meta["source"] == link and "20 days" in hit.content
                alone = tg.user_message(group, "/kb save", chat_type="supergroup", user_id=6)
                nothing = await eventually(lambda: [m.text for m in tg.bot_messages(group)
                                                    if m.reply_to == alone["message"]["message_id"]], what="the hint")
                assert "as a reply to one of its answers" in nothing[0]
            assert tg.state.rejected == []

        asyncio.run(scenario())
