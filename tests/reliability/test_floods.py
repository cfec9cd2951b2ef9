"""Promise: nobody can make kbot (or the team's LLM bill) do unbounded work.

A question has a length cap, thread history a budget that holds for every turn, and each person
and channel a question rate (counted in the database, hence across processes; see
test_two_processes.py). A flood hears "slow down" once and costs no model calls; others are answered.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.messages import ThreadKey
from bot.state.db import TurnRow
from bot.state.engine import make_engine
from bot.state.memory import ThreadMemory
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, metric, platform_settings, quiet_for, running_bot

GROUP = -100555
FLOODER, NEIGHBOUR = 66, 77


def _settings(make_settings, llm, tg: FakeTelegram, **limits: int):
    return platform_settings(make_settings, llm, telegram={
        "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base},
        limits={"questions_per_person_per_minute": 0, "questions_per_person_per_hour": 0,
                "questions_per_channel_per_minute": 0, **limits})



def test_an_over_long_question_is_refused_before_the_model_and_memory(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = _settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                tg.user_message(4242, "How many vacation days? " + "x" * 99_976)  # 100,000 characters
                refused = await eventually(lambda: tg.bot_messages(4242), what="the refusal")
                assert "100,000 characters" in refused[0].text and "up to 4,000" in refused[0].text
                assert len(refused[0].text) < 300
                await quiet_for(0.3)
                assert llm.chat_requests == []
                with Session(running.service.feedback.engine) as session:
                    assert session.scalar(select(func.count()).select_from(TurnRow)) == 0
                assert metric(running, 'kbot_refused_total{platform="telegram",reason="too_long"}') == 1

        asyncio.run(scenario())


def test_the_history_budget_holds_for_every_turn(tmp_path) -> None:
    memory = ThreadMemory(make_engine(None, tmp_path), budget_chars=6000)
    key = ThreadKey("test", "w", "c", "t")
    memory.remember(key, question="short question", query="q", answer="A" * 50_000, sources=[], mode="llm", author="a")
    for budget_test in (memory.history(key),):
        assert sum(len(t.question) + len(t.answer) for t in budget_test) <= 6000
        assert budget_test[0].question == "short question" and budget_test[0].answer.endswith("[…]")
    memory.remember(key, question="Q" * 9000, query="q", answer="fine", sources=[], mode="llm", author="a")
    turns = memory.history(key)
    assert sum(len(t.question) + len(t.answer) for t in turns) <= 6000 and turns[-1].answer == "fine"


def test_a_follow_up_after_a_huge_answer_sends_a_bounded_request(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = _settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})
        llm.token_delay_s = 0
        llm.scripted = [["Vacation " * 12_000 + "[1]."]]  # a 100 KB answer

        async def scenario() -> None:
            async with running_bot(app):
                tg.user_message(4242, "How many vacation days do we get?")
                await eventually(lambda: [m for m in tg.bot_messages(4242) if m.reply_markup], timeout=30,
                                 what="the long answer")
                tg.user_message(4242, "And part-time staff?")
                await eventually(lambda: len(llm.chat_requests) >= 3, what="the follow-up's calls")

        asyncio.run(scenario())
    for request in llm.chat_requests[1:]:  # the rewrite and the answer both carry the shortened history
        history = "".join(m["content"] for m in request["messages"][1:-1])
        assert len(history) <= settings.answer.history_chars
        assert len(json.dumps(request)) < 20_000


def test_a_flood_from_one_person_costs_a_few_answers_and_one_notice(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = _settings(make_settings, llm, tg, questions_per_person_per_minute=3)
        app = knowledge_bot(settings, {})
        llm.token_delay_s = 0.01

        async def scenario() -> None:
            async with running_bot(app) as running:
                for i in range(200):
                    tg.user_message(GROUP, f"/ask vacation days, attempt {i}?", chat_type="supergroup",
                                    user_id=FLOODER)
                neighbour = tg.user_message(GROUP, "/ask How many vacation days do we get?", chat_type="supergroup",
                                            user_id=NEIGHBOUR)
                await eventually(lambda: [m for m in tg.bot_messages(GROUP) if m.reply_markup
                                          and m.reply_to == neighbour["message"]["message_id"]], timeout=40,
                                 what="the neighbour's answer")
                await eventually(lambda: metric(running, 'kbot_refused_total{platform="telegram",'
                                                          'reason="rate_person"}') == 197, what="the refusals")
                await eventually(lambda: len([m for m in tg.bot_messages(GROUP) if m.reply_markup]) == 4,
                                 timeout=40, what="the flooder's three answers")
                notices = [m for m in tg.bot_messages(GROUP) if "at most 3 questions a minute from you" in m.text]
                assert len(notices) == 1
                assert len(llm.chat_requests) == 4  # three for the flooder, one for the neighbour
            assert tg.state.too_many_requests == 0

        asyncio.run(scenario())


def test_a_channel_rate_holds_whoever_asks(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = _settings(make_settings, llm, tg, questions_per_channel_per_minute=2)
        app = knowledge_bot(settings, {})
        llm.token_delay_s = 0.01

        async def scenario() -> None:
            async with running_bot(app) as running:
                for user in range(10, 16):
                    tg.user_message(GROUP, "/ask How many vacation days do we get?", chat_type="supergroup",
                                    user_id=user)
                await eventually(lambda: metric(running, 'kbot_refused_total{platform="telegram",'
                                                          'reason="rate_channel"}') == 4, what="the refusals")
                await eventually(lambda: len([m for m in tg.bot_messages(GROUP) if m.reply_markup]) == 2,
                                 timeout=30, what="two answers")
                assert len([m for m in tg.bot_messages(GROUP) if "from this channel" in m.text]) == 1
                assert len(llm.chat_requests) == 2

        asyncio.run(scenario())


def test_a_burst_of_chats_is_answered_once_each_and_every_final_finds_its_turn(make_settings, llm) -> None:
    """Telegram hands the questions over in one batch, so their turns are written together (one
    transaction for all that wait, bot/state/group_commit.py); still, no final is sent before its own turn
    is stored, so a 👍 or a follow-up the moment it appears finds it."""
    chats = [7100 + n for n in range(12)]
    with FakeTelegram() as tg:
        app = knowledge_bot(_settings(make_settings, llm, tg), {})
        llm.token_delay_s = 0.01
        seen: dict[int, bool] = {}  # chat -> its turn was stored when its final was first seen

        def check_finals(engine) -> bool:  # type: ignore[no-untyped-def]
            for chat in chats:
                finals = [m for m in tg.bot_messages(chat) if m.reply_markup]
                if chat in seen or not finals:
                    continue
                reply_id = finals[0].reply_markup["inline_keyboard"][0][0]["callback_data"].split(":")[2]
                with Session(engine) as session:
                    seen[chat] = session.scalar(select(TurnRow.id).where(TurnRow.reply_id == reply_id)) is not None
            return len(seen) == len(chats)

        async def scenario() -> None:
            async with running_bot(app) as running:
                engine = running.service.feedback.engine
                for chat in chats:
                    tg.user_message(chat, "How many vacation days do we get?", user_id=chat)
                await eventually(lambda: check_finals(engine), timeout=40, what="every chat's final")
                assert seen == {chat: True for chat in chats}
                assert all(len([m for m in tg.bot_messages(chat) if m.reply_markup]) == 1 for chat in chats)
                with Session(engine) as session:
                    assert session.scalar(select(func.count()).select_from(TurnRow)) == len(chats)
            assert tg.state.too_many_requests == 0 and tg.state.rejected == []

        asyncio.run(scenario())


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_one_persons_thirty_uploads_do_not_keep_others_waiting(make_settings, database, request) -> None:
    """jobs.concurrency 1: a member queues 30 files in one place, then two others upload, one of them
    in the same place. The others' jobs are taken second and third, not 31st and 32nd."""
    from bot.app import build_indexer, build_knowledge_base
    from bot.jobs.queue import JobQueue
    from bot.state.engine import make_engine

    settings = make_settings()
    url = None if database == "sqlite" else request.getfixturevalue("postgres_database")
    kb = build_knowledge_base(settings)
    queue = JobQueue(make_engine(url, settings.data_path), build_indexer(settings, kb))
    flood = [queue.enqueue_file(b"# Note\n\nText.", f"note{i}.md", "telegram:1", "flooder", None) for i in range(30)]
    neighbour = queue.enqueue_file(b"# Mine\n\nText.", "mine.md", "telegram:1", "neighbour", None)
    elsewhere = queue.enqueue_file(b"# Ours\n\nText.", "ours.md", "telegram:2", "someone", None)
    taken = []
    while (job := queue.claim()) is not None:  # a claimed job runs (its heartbeat is fresh): the next is taken
        taken.append(job.id)
    assert taken[:3] == [flood[0], neighbour, elsewhere] or taken[:3] == [flood[0], elsewhere, neighbour]
    assert sorted(taken) == sorted([*flood, neighbour, elsewhere])
