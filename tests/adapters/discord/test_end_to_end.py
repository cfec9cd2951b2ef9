"""Discord end to end: discord.py talks to a local Discord (REST and gateway WebSocket)."""

from __future__ import annotations

import asyncio

from bot.state.feedback import FeedbackLog
from tests.fakes.discord_server import FakeDiscord
from tests.support.bots import eventually, knowledge_bot, quiet_for, running_bot
from tests.support.platforms import ELSEWHERE, GENERAL, GUILD, SECRET, discord_final, discord_settings, discord_world


def test_mention_streams_edits_cites_remembers_replies_and_takes_feedback(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        settings = discord_settings(make_settings, llm, discord)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                assert [c["name"] for c in discord.state.commands] == ["ask", "kb"]
                assert discord.state.identified_intents[0] & (1 << 15)  # message content intent
                question = discord.user_message(GENERAL, "How many vacation days do we get?", mention_bot=True)
                discord.dispatch("MESSAGE_CREATE", question)  # a replayed gateway event
                discord.user_message(GENERAL, "unrelated chatter about lunch")
                final = await eventually(lambda: discord_final(discord, GENERAL, question["id"]),
                                         what="the final answer")
                assert final.edits >= 2 and final.flags & 4  # streamed edits; embeds suppressed
                assert "25 vacation days" in final.content and "Time off" in final.content
                assert final.allowed_mentions["parse"] == []
                await quiet_for(1)
                assert len(discord.bot_messages(GENERAL)) == 1 and len(llm.chat_requests) == 1

                # Replying to kbot's answer continues the same thread (its memory).
                discord.user_message(GENERAL, "and part-time staff?", reply_to=final.id)
                await eventually(lambda: len(llm.chat_requests) >= 3, what="the follow-up")
                assert any("How many vacation days" in str(m["content"]) for m in llm.chat_requests[-1]["messages"])

                buttons = final.components[0]["components"]
                discord.click(final, buttons[0]["custom_id"], user_id="700000000000000009")
                response = await eventually(lambda: discord.state.interaction_responses, what="the click's reply")
                assert response[0]["type"] == 4 and "👍" in response[0]["data"]["content"]
                assert response[0]["data"]["flags"] & 64  # ephemeral
                reply_id = buttons[0]["custom_id"].rsplit(":", 1)[1]
                assert FeedbackLog(running.service.feedback.engine).votes(reply_id) == {"700000000000000009": 1}
            assert discord.state.too_many_requests == 0 and discord.state.rejected == []

        asyncio.run(scenario())


def test_scopes_follow_the_guild_and_private_channels(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        settings = discord_settings(make_settings, llm, discord)
        app = knowledge_bot(settings, {f"discord:{GUILD}:{SECRET}": "falcon.md"})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app):
                for channel in (SECRET, GENERAL, ELSEWHERE):
                    question = discord.user_message(channel, "what is the Falcon launch code word?", mention_bot=True)
                    await eventually(lambda c=channel, q=question: discord_final(discord, c, q["id"]), what=channel)
                assert "Project Falcon" in discord_final(discord, SECRET).content  # type: ignore[union-attr]
                assert "Project Falcon" not in discord_final(discord, GENERAL).content  # type: ignore[union-attr]
                assert "Project Falcon" not in discord_final(discord, ELSEWHERE).content  # type: ignore[union-attr]
            assert discord.state.too_many_requests == 0 and discord.state.rejected == []

        asyncio.run(scenario())


def test_slash_ask_and_thread_per_question(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        settings = discord_settings(make_settings, llm, discord, thread_per_question=True)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                discord.slash(GENERAL, "How many vacation days do we get?")
                first = await eventually(lambda: discord.state.interaction_responses, what="the first response")
                # A message at once (not a deferral), so its suppressed embeds hold for every later edit.
                assert first[0]["type"] == 4 and first[0]["data"]["flags"] & 4
                original = await eventually(lambda: discord_final(discord, GENERAL), what="the /ask answer")
                assert "25 vacation days" in original.content

                question = discord.user_message(GENERAL, "How many vacation days?", mention_bot=True)
                thread = question["id"]  # the thread opened on the question has the question's id
                answer = await eventually(lambda: discord_final(discord, thread), what="the answer in the thread")
                assert "25 vacation days" in answer.content
                discord.user_message(thread, "and for part-time staff?")  # no mention needed in kbot's thread
                await eventually(lambda: len([m for m in discord.bot_messages(thread) if m.components]) == 2,
                                 what="the thread follow-up")
            assert discord.state.too_many_requests == 0 and discord.state.rejected == []

        asyncio.run(scenario())


def test_long_answers_continue_in_new_messages_under_2000_characters(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        settings = discord_settings(make_settings, llm, discord)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = [f"Vacation fact number {i} is here. " for i in range(150)] + ["[1]"]
        llm.token_delay_s = 0.01

        async def scenario() -> None:
            async with running_bot(app):
                question = discord.user_message(GENERAL, "Tell me everything about vacation days", mention_bot=True)
                await eventually(lambda: discord_final(discord, GENERAL), what="the last part")
                parts = discord.bot_messages(GENERAL)
                assert len(parts) == 3 and all(len(p.content) <= 2000 for p in parts)
                assert parts[0].reference == question["id"]
                text = " ".join(p.content for p in parts)
                assert all(f"number {i} is here" in text for i in range(150))
                assert [bool(p.components) for p in parts] == [False, False, True]
            assert discord.state.too_many_requests == 0 and discord.state.rejected == []

        asyncio.run(scenario())


def test_two_processes_on_one_token_answer_once(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        settings = discord_settings(make_settings, llm, discord)
        first = knowledge_bot(settings, {})
        second = knowledge_bot(settings, {})  # its own engine and store handles, same files

        async def scenario() -> None:
            async with running_bot(first), running_bot(second):
                assert discord.connections == 2  # both gateways receive every event
                question = discord.user_message(GENERAL, "How many vacation days do we get?", mention_bot=True)
                await eventually(lambda: discord_final(discord, GENERAL, question["id"]), what="the answer")
                await quiet_for(1.5)
                assert len(discord.bot_messages(GENERAL)) == 1 and len(llm.chat_requests) == 1

        asyncio.run(scenario())


def test_direct_messages_are_answered_in_their_own_scope(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        user = "700000000000000004"
        dm = discord.dm_channel(user)
        settings = discord_settings(make_settings, llm, discord)
        app = knowledge_bot(settings, {f"discord:{GUILD}": "falcon.md"})

        async def scenario() -> None:
            async with running_bot(app):
                question = discord.user_message(dm, "How many vacation days do we get?", user_id=user)
                final = await eventually(lambda: discord_final(discord, dm, question["id"]), what="the DM answer")
                assert "25 vacation days" in final.content
                falcon = discord.user_message(dm, "What is the Falcon launch code word?", user_id=user)
                other = await eventually(lambda: discord_final(discord, dm, falcon["id"]), what="the second DM answer")
                assert "Project Falcon" not in other.content  # a guild's documents stay in the guild
                assert "ORCHID" not in str(llm.chat_requests)

        asyncio.run(scenario())
