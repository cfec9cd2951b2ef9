"""Promise: personal data is redacted before anything is kept or sent to a hosted model.

A question holding an e-mail address, phone numbers in international and national form, a spaced
IBAN, a card number and a token: the model's request, the thread memory, the coverage gaps and the
log line hold tags instead; a saved thread is stored redacted. With `privacy.redact_before_llm: false`
the model gets the question as asked, and memory still keeps only the redacted text.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.state.db import GapRow, TurnRow
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, running_bot

ITEMS = {"jane.doe@example.com": "[email]", "+44 20 7946 0958": "[phone]", "0171 1234567": "[phone]",
         "GB82 WEST 1234 5698 7654 32": "[iban]", "4111 1111 1111 1111": "[card]",
         "ghp_abcdefghijklmnopqrstuvwxyz0123456789": "[secret]"}
PERSONAL = ("I am jane.doe@example.com, call +44 20 7946 0958 or 0171 1234567; refund to GB82 WEST 1234 5698 "
            "7654 32, card 4111 1111 1111 1111, token ghp_abcdefghijklmnopqrstuvwxyz0123456789.")
ANSWERED = f"{PERSONAL} How many vacation days do we get?"  # answered: the model is asked
GAP = f"{PERSONAL} How many zeppelin hangars are there?"  # nothing found: a coverage gap


@pytest.mark.parametrize("redact_before_llm", [True, False])
def test_a_question_with_personal_data_is_kept_and_sent_redacted(make_settings, llm, caplog,
                                                                   redact_before_llm: bool) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, privacy={"redact_before_llm": redact_before_llm},
                                     server={"log_message_text": True}, telegram={
                                         "enabled": True, "token": TOKEN, "base_url": tg.api_base,
                                         "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                with caplog.at_level(logging.INFO, logger="kbot.answers"):
                    for chat, question in ((4242, ANSWERED), (4343, GAP)):  # each a thread of its own
                        tg.user_message(chat, question, user_id=chat)
                        await eventually(lambda c=chat: [m for m in tg.bot_messages(c) if m.reply_markup],
                                         what="the answer")

        asyncio.run(scenario())
    sent = json.dumps(llm.chat_requests, ensure_ascii=False)
    with Session(app.engine) as session:
        kept = " ".join(t.question + t.answer + (t.query or "") for t in session.scalars(select(TurnRow)))
        gaps = " ".join(g.question for g in session.scalars(select(GapRow)))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert gaps, "the unanswerable question is a coverage gap"
    for item, tag in ITEMS.items():
        for where, text in (("memory", kept), ("gaps", gaps), ("log", logged)):
            assert item not in text and tag in text, (where, item)
        assert (item not in sent) is redact_before_llm, item


def test_a_saved_thread_is_stored_redacted(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                first = tg.user_message(4242, "How many vacation days? Mail me at jane.doe@example.com")
                answer = await eventually(lambda: [m for m in tg.bot_messages(4242) if m.reply_markup],
                                          what="the answer")
                tg.user_message(4242, "/kb save", reply_to=answer[0].message_id)
                await eventually(lambda: [m for m in tg.bot_messages(4242) if m.text.startswith("Saved")],
                                 what="the save")
                kb = running.service.conversation.knowledge_base
                saved = [d.content or "" for d in kb.search("vacation days mail", ["telegram:4242"], top_k=10)
                         if d.meta.get("scope") == "telegram:4242"]
                assert saved and "[email]" in " ".join(saved) and "jane.doe" not in " ".join(saved)
                assert first

        asyncio.run(scenario())
