"""Reactions end to end: ❓ on a person's message makes kbot answer it in its thread (once per
message, however many react); ✅ by an admin on kbot's answer saves the thread; other reactions,
and ✅ from anyone else, change nothing."""

from __future__ import annotations

import asyncio

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.support.bots import eventually, knowledge_bot, quiet_for, running_bot
from tests.support.platforms import (
    GENERAL,
    GUILD,
    discord_final,
    discord_settings,
    discord_world,
    slack_final,
    slack_settings,
)


def test_slack_question_mark_answers_and_admin_check_mark_saves(make_settings, llm) -> None:
    with FakeSlack() as slack:
        slack.state.workspace_admins.add("UADMIN")
        app = knowledge_bot(slack_settings(make_settings, llm, slack), {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                chatter = slack.message("C1", "How many vacation days do we get?", user="U2")
                slack.deliver(chatter)  # not addressed to kbot: no answer
                ts = chatter["event"]["ts"]
                await quiet_for(0.5)
                assert slack.thread_replies("C1", ts) == [] and llm.chat_requests == []
                slack.deliver(slack.reaction("C1", ts, "thumbsup"))
                for user in ("U3", "U4"):  # two people ask; one answer
                    slack.deliver(slack.reaction("C1", ts, "question", user=user))
                final = await eventually(lambda: slack_final(slack, "C1", ts), what="the answer in the thread")
                assert "25 vacation days" in final.visible()
                await quiet_for(1)
                assert len(llm.chat_requests) == 1 and len(slack.thread_replies("C1", ts)) == 1

                slack.deliver(slack.reaction("C1", final.ts, "white_check_mark", user="U3"))  # not an admin
                await quiet_for(1)
                kb = running.service.conversation.knowledge_base
                link = f"https://test.slack.com/archives/C1/p{ts.replace('.', '')}"
                assert link not in [s.source for s in kb.sources(["slack:T1"])]
                slack.deliver(slack.reaction("C1", ts, "white_check_mark", user="UADMIN"))  # a person's message
                slack.deliver(slack.reaction("C1", final.ts, "white_check_mark", user="UADMIN"))
                saved = await eventually(lambda: [e for e in slack.state.ephemeral
                                                  if "Saved this thread" in e["text"]], what="the save")
                assert saved[0]["user"] == "UADMIN" and link in saved[0]["text"]
                assert [s.source for s in kb.sources(["slack:T1"])].count(link) == 1
            assert slack.state.rejected == []

        asyncio.run(scenario())


OWNER = "1"  # the fake server's owner: every permission, Manage Server included


def test_discord_question_mark_answers_and_admin_check_mark_saves(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        app = knowledge_bot(discord_settings(make_settings, llm, discord, thread_per_question=True), {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                chatter = discord.user_message(GENERAL, "How many vacation days do we get?",
                                               user_id="700000000000000002")
                await quiet_for(0.5)
                assert discord.bot_messages(GENERAL) == [] and chatter["id"] not in discord.state.channels
                discord.react(chatter["id"], "👍")
                for user in ("700000000000000003", "700000000000000004"):
                    discord.react(chatter["id"], "❓", user_id=user)
                answer = await eventually(lambda: discord_final(discord, chatter["id"]), what="the answer in a thread")
                assert "25 vacation days" in answer.content
                await quiet_for(1)
                assert len(llm.chat_requests) == 1

                # In kbot's own thread, an admin's ✅ on the answer saves the thread.
                question = discord.user_message(GENERAL, "How many vacation days?", mention_bot=True)
                thread = question["id"]
                in_thread = await eventually(lambda: discord_final(discord, thread), what="the answer in the thread")
                discord.react(in_thread.id, "✅", user_id="700000000000000003")  # not an admin: nothing
                await quiet_for(1)
                kb = running.service.conversation.knowledge_base
                link = f"https://discord.com/channels/{GUILD}/{thread}"
                assert link not in [s.source for s in kb.sources([f"discord:{GUILD}"])]
                discord.react(in_thread.id, "✅", user_id=OWNER)
                saved = await eventually(lambda: [m.content for m in discord.bot_messages(thread)
                                                  if m.content.startswith("Saved this thread")], what="the save")
                assert link in saved[0]
                assert link in [s.source for s in kb.sources([f"discord:{GUILD}"])]
            assert discord.state.rejected == []

        asyncio.run(scenario())
