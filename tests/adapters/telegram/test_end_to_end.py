"""Telegram end to end: python-telegram-bot talks to a local Bot API server; kbot answers through it."""

from __future__ import annotations

import asyncio

from bot.state.feedback import FeedbackLog
from tests.fakes.telegram_server import BOT_ID, BOT_USERNAME, TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, quiet_for, running_bot
from tests.support.platforms import GROUP, OTHER_GROUP, PRIVATE, telegram_final, telegram_settings


def test_private_chat_streams_drafts_then_a_cited_final_with_feedback(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                assert [c["command"] for c in tg.state.commands] == ["ask", "kb", "help"]
                tg.user_message(PRIVATE, "How many vacation days do we get?")
                final = await eventually(lambda: telegram_final(tg, PRIVATE), what="the final answer")
                assert len(tg.state.drafts) >= 2  # streamed as drafts before the final message
                assert all(int(d["chat_id"]) == PRIVATE for d in tg.state.drafts)
                assert final.parse_mode == "HTML" and final.link_preview_disabled
                assert "25 vacation days" in final.text and "Sources:" in final.text and "Time off" in final.text
                buttons = final.reply_markup["inline_keyboard"][0]
                assert [b["text"] for b in buttons] == ["👍", "👎"]

                # A follow-up in the same chat sees the first exchange.
                tg.user_message(PRIVATE, "And part-time staff?")
                await eventually(lambda: len(llm.chat_requests) >= 2, what="the follow-up's LLM call")
                follow_up = llm.chat_requests[-1]["messages"]
                assert any("How many vacation days" in str(m["content"]) for m in follow_up)
                await eventually(lambda: len([m for m in tg.bot_messages(PRIVATE) if m.reply_markup]) == 2,
                                 what="the second answer")

                tg.click(PRIVATE, final.message_id, buttons[0]["callback_data"], user_id=7)
                answered = await eventually(lambda: tg.state.callback_answers, what="the click's acknowledgement")
                assert "👍" in answered[0]["text"]
                reply_id = buttons[0]["callback_data"].split(":")[2]
                assert FeedbackLog(running.service.feedback.engine).votes(reply_id) == {"7": 1}
            assert tg.state.too_many_requests == 0 and tg.state.rejected == []

        asyncio.run(scenario())


def test_groups_answer_mentions_replies_and_ask_once_each_within_their_scope(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {f"telegram:{GROUP}": "falcon.md"})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."] * 3

        async def scenario() -> None:
            async with running_bot(app):
                # Not addressed to kbot: ignored.
                tg.user_message(GROUP, "what is the falcon launch code word?", chat_type="supergroup")
                update = tg.user_message(GROUP, f"@{BOT_USERNAME} what is the Falcon launch code word?",
                                         chat_type="supergroup")
                question_id = update["update_id"] and update["message"]["message_id"]
                tg.replay(update)  # Telegram delivers the same update again
                final = await eventually(lambda: telegram_final(tg, GROUP, question_id), what="the group answer")
                assert final.edits >= 2  # the reply was edited as tokens streamed
                assert "Project Falcon" in final.text
                await quiet_for(1.5)
                replies = [m for m in tg.bot_messages(GROUP) if m.reply_to == question_id]
                assert len(replies) == 1 and len(llm.chat_requests) == 1

                # A reply to kbot's answer continues that thread (its memory).
                tg.user_message(GROUP, "who may use it?", chat_type="supergroup", reply_to=final.message_id)
                # Wait for the answer's own call (a rewrite of the follow-up comes first), so that none of
                # this thread's calls is counted as the other group's below.
                await eventually(lambda: any("Question: who may use it?" in str(r["messages"][-1]["content"])
                                             for r in llm.chat_requests), what="the reply's LLM call")
                assert any("Falcon launch code" in str(m["content"]) for m in llm.chat_requests[-1]["messages"])

                # Another group cannot see the first group's document.
                before = len(llm.chat_requests)
                other = tg.user_message(OTHER_GROUP, "/ask what is the Falcon launch code word?",
                                        chat_type="supergroup")
                answer = await eventually(lambda: [m for m in tg.bot_messages(OTHER_GROUP)
                                                   if m.reply_to == other["message"]["message_id"]
                                                   and ("Sources" in m.text or "couldn't find" in m.text)],
                                          what="the other group's answer")
                assert "Project Falcon" not in answer[0].text and "ORCHID" not in str(llm.chat_requests[before:])
            assert tg.state.too_many_requests == 0 and tg.state.rejected == []
            assert all(m.link_preview_disabled for m in tg.bot_messages(GROUP))

        asyncio.run(scenario())


def test_ask_without_a_question_explains_itself(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                tg.user_message(GROUP, "/ask", chat_type="supergroup")
                message = await eventually(lambda: tg.bot_messages(GROUP), what="the hint")
                assert "/ask how many vacation days" in message[0].text
                assert llm.chat_requests == []

        asyncio.run(scenario())


assert BOT_ID


def test_long_answers_continue_under_4096_characters_and_faults_reach_the_person(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = [f"Vacation **fact** {i} is <here> & there. " for i in range(300)] + ["[1]"]
        llm.token_delay_s = 0.005

        async def scenario() -> None:
            async with running_bot(app):
                update = tg.user_message(GROUP, "/ask tell me everything about vacation days", chat_type="supergroup")
                await eventually(lambda: telegram_final(tg, GROUP), what="the last part")
                parts = tg.bot_messages(GROUP)
                assert len(parts) == 3 and parts[0].reply_to == update["message"]["message_id"]
                assert all(p.parse_mode == "HTML" for p in parts) and "<b>fact</b>" in parts[0].text
                assert "&lt;here&gt; &amp; there" in parts[0].text

                llm.chat_faults = [503, 503, 503, 503]
                tg.user_message(PRIVATE, "How many vacation days do we get?")
                failed = await eventually(lambda: tg.bot_messages(PRIVATE), what="the error message")
                assert failed[0].text.startswith("⚠️") and len(failed[0].text) < 200
            assert tg.state.too_many_requests == 0 and tg.state.rejected == []

        asyncio.run(scenario())


def test_webhook_mode_takes_updates_with_the_secret_only(make_settings, llm) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
            "mode": "webhook", "webhook_url": f"http://127.0.0.1:{port}/telegram-hook", "webhook_host": "127.0.0.1",
            "webhook_port": port, "webhook_secret": "hook-secret"})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                assert tg.state.webhook is not None and tg.state.webhook["url"].endswith("/telegram-hook")
                forged = tg.make_update(PRIVATE, "How many vacation days do we get?")
                assert await asyncio.to_thread(tg.post_to_webhook, forged, "wrong") == 403
                update = tg.make_update(PRIVATE, "How many vacation days do we get?")
                assert await asyncio.to_thread(tg.post_to_webhook, update) == 200
                final = await eventually(lambda: telegram_final(tg, PRIVATE), what="the answer")
                assert "25 vacation days" in final.text and len(llm.chat_requests) == 1

        asyncio.run(scenario())


def test_forum_topics_are_threads_of_their_own(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                tg.user_message(GROUP, "/ask How many vacation days do we get?", chat_type="supergroup", thread_id=7)
                final = await eventually(lambda: telegram_final(tg, GROUP), what="the answer in the topic")
                assert final.thread_id == 7
                memory = running.service.conversation.memory
                from bot.core.messages import ThreadKey

                key = ThreadKey("telegram", str(GROUP), str(GROUP), "topic:7")
                assert await eventually(lambda: memory.knows(key), what="the topic's memory")

        asyncio.run(scenario())
