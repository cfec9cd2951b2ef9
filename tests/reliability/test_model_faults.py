"""Promise: a model that fails or stops half-way never passes for a complete answer.

A stream counts as finished only with `[DONE]` or a `finish_reason`. Cut before anything was
shown, it is retried; cut after, the shown text is marked as cut off, nothing is remembered and
`kbot ask` exits non-zero. (Timeouts, 429s, 5xx, bad keys and refused connections are in
tests/test_conversation.py.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.chat.conversation import Conversation
from bot.cli.main import main
from bot.config import AnswerSettings
from bot.core.messages import ThreadKey
from bot.rag.llm_client import CUT_OFF, TRUNCATED
from tests.fakes.openai_server import serve_openai
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, quiet_for, running_bot
from tests.support.conversation import ask as _ask
from tests.support.conversation import llm as _llm

KEY = ThreadKey("test", "w", "c", "t1")
TOKENS = ["Every ", "employee ", "gets ", "25 ", "vacation ", "days ", "[1]", "."]


def test_a_stream_cut_before_its_first_token_is_retried(knowledge, memory) -> None:  # noqa: F811
    with serve_openai() as fake:
        fake.reply_tokens = list(TOKENS)
        fake.cuts = [0]
        answer, port = _ask(Conversation(knowledge, memory, _llm(fake.base_url), AnswerSettings()), "vacation days?")
    assert len(fake.chat_requests) == 2
    assert answer is not None and answer.text == "".join(TOKENS) and port.failed is None
    assert len(memory.history(KEY)) == 1


def test_a_stream_that_never_starts_fails_in_one_message(knowledge, memory) -> None:  # noqa: F811
    with serve_openai() as fake:
        fake.cuts = [0, 0, 0]
        answer, port = _ask(Conversation(knowledge, memory, _llm(fake.base_url), AnswerSettings()), "vacation days?")
    assert answer is None and port.failed == "The language model's answer ended before it began; please try again."
    assert len(fake.chat_requests) == 3 and memory.history(KEY) == []


@pytest.mark.parametrize(("ending", "message"), [("cut", CUT_OFF), ("length", TRUNCATED)])
def test_a_half_finished_answer_is_marked_and_never_remembered(knowledge, memory, ending: str,  # noqa: F811
                                                              message: str) -> None:
    with serve_openai() as fake:
        fake.reply_tokens = list(TOKENS)
        if ending == "cut":
            fake.cuts = [4]  # "Every employee gets 25 " and then the body simply ends
        else:
            fake.finish_reason = "length"
        answer, port = _ask(Conversation(knowledge, memory, _llm(fake.base_url), AnswerSettings()), "vacation days?")
    assert answer is None and port.failed == message and port.final == []
    assert port.updates and port.updates[-1].startswith("Every employee gets")
    assert len(fake.chat_requests) == 1  # shown text is never retried (nobody sees an answer start twice)
    assert memory.history(KEY) == []


def test_kbot_ask_exits_non_zero_on_a_cut_stream(tmp_path: Path, monkeypatch, capsys) -> None:
    with serve_openai() as fake:
        fake.reply_tokens = list(TOKENS)
        fake.cuts = [5]
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "time-off.md").write_text("# Time off\n\nEvery employee gets 25 vacation days a year.\n")
        (tmp_path / "config.yaml").write_text(
            "data_dir: state\nknowledge: {paths: [docs]}\nembedder: {kind: none}\n"
            f"llm: {{kind: openai, base_url: '{fake.base_url}', api_key: k, model: fake}}\n")
        monkeypatch.chdir(tmp_path)
        assert main(["ingest"]) == 0
        capsys.readouterr()
        code = main(["ask", "How many vacation days do we get?", "--thread", "T1"])
        out = capsys.readouterr().out
        assert code == 1 and "Every employee gets" in out and CUT_OFF in out
        assert main(["ask", "How many vacation days do we get?", "--json"]) == 0  # the next stream is whole

    from sqlalchemy import create_engine, text

    with create_engine(f"sqlite:///{tmp_path / 'state' / 'kbot.db'}").connect() as db:
        assert db.execute(text("SELECT count(*) FROM turns")).scalar() == 1  # only the whole answer


def test_on_a_platform_the_cut_answer_is_marked_without_feedback_buttons(make_settings, llm) -> None:
    group = -100777
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})
        llm.reply_tokens = list(TOKENS)
        llm.cuts = [6]

        async def scenario() -> None:
            async with running_bot(app):
                sent = tg.user_message(group, "/ask How many vacation days do we get?", chat_type="supergroup")
                marked = await eventually(lambda: [m for m in tg.bot_messages(group) if CUT_OFF in m.text],
                                          what="the marked answer")
                assert marked[0].reply_to == sent["message"]["message_id"] and "Every employee" in marked[0].text
                assert marked[0].reply_markup is None and marked[0].text.count("⚠️") == 1
                key = ThreadKey("telegram", str(group), str(group), str(sent["message"]["message_id"]))
                await quiet_for(0.3)
                assert app.memory.history(key) == [] and not app.memory.knows(key)

        asyncio.run(scenario())
