"""Promise: a database that goes away under a running bot is survivable and visible.

The person who asks gets one ⚠️ reply within seconds, saying the question is kept; it is answered
once the database is back. The log says once that the database is unreachable (the reason, no
password) and once that it is back, with what was held; nothing else logs a traceback meanwhile.
/readyz goes 503 and back to 200 by itself. A real PostgreSQL is stopped and started again; a real
SQLite file is locked by another process.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, http_get, knowledge_bot, platform_settings, running_bot
from tests.support.postgres import ThrowawayPostgres

HELD = "Your question is kept and answered as soon as it is back"


def _answers(tg: FakeTelegram, chat: int) -> list:
    return [m for m in tg.bot_messages(chat) if m.reply_markup]


def _tracebacks(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in records if r.exc_info]


@pytest.fixture
def postgres():  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(prefix="kbot-pg-"))  # outside pytest's folders, which the server's user cannot read
    try:
        server = ThrowawayPostgres(folder)
        yield server
        server.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_postgresql_stopped_under_a_running_bot_holds_the_question_and_answers_it_after(
        make_settings, llm, postgres: ThrowawayPostgres, caplog) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, database={"url": postgres.url}, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})
        timeline: list[tuple[float, str]] = []

        async def scenario() -> None:
            async with running_bot(app) as running:
                ready = f"http://127.0.0.1:{running.ops.port}/readyz"
                tg.user_message(4242, "How many vacation days do we get?")
                await eventually(lambda: _answers(tg, 4242), what="the answer before the outage")
                assert (await asyncio.to_thread(http_get, ready))[0] == 200

                caplog.clear()
                with caplog.at_level(logging.INFO):
                    await asyncio.to_thread(postgres.stop)
                    asked = time.monotonic()
                    tg.user_message(4242, "And part-time staff?")
                    notice = await eventually(lambda: [m for m in tg.bot_messages(4242) if HELD in m.text],
                                              what="the held notice")
                    timeline.append((time.monotonic() - asked, "the person saw: " + notice[0].text))
                    assert notice[0].text.startswith("⚠️") and len(_answers(tg, 4242)) == 1
                    assert (await asyncio.to_thread(http_get, ready))[0] == 503
                    await asyncio.sleep(1.0)  # a second of real polls (jobs, readiness) while it is away

                    await asyncio.to_thread(postgres.start)
                    restarted = time.monotonic()
                    await eventually(lambda: len(_answers(tg, 4242)) == 2, timeout=30, what="the held answer")
                    timeline.append((time.monotonic() - restarted, "answered after the restart"))
                    for _ in range(100):  # /readyz asks the database itself each time
                        if (await asyncio.to_thread(http_get, ready))[0] == 200:
                            break
                        await asyncio.sleep(0.1)
                    assert (await asyncio.to_thread(http_get, ready))[0] == 200
                    assert "part-time" in str(llm.chat_requests[-1]["messages"])

        asyncio.run(scenario())
        said = [r.getMessage() for r in caplog.records if r.name == "kbot.database"]
        away = [line for line in said if "unreachable" in line]
        back = [line for line in said if "is back after" in line]
        assert len(away) == 1 and len(back) == 1, said
        assert "127.0.0.1" in away[0] and "1 held question(s) being answered, 0 dropped" in back[0]
        assert _tracebacks(caplog.records) == []
        for seconds, what in timeline:
            print(f"outage timeline: {seconds:.2f} s: {what}")


def test_a_locked_sqlite_database_holds_the_question_until_the_lock_goes(make_settings, llm, caplog) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                blocker = sqlite3.connect(settings.data_path / "kbot.db", isolation_level=None)
                blocker.execute("BEGIN EXCLUSIVE")  # another process writing for a long time
                try:
                    with caplog.at_level(logging.INFO):
                        tg.user_message(4242, "How many vacation days do we get?")
                        await eventually(lambda: [m for m in tg.bot_messages(4242) if HELD in m.text], timeout=30,
                                         what="the held notice")
                finally:
                    blocker.execute("ROLLBACK")
                    blocker.close()
                await eventually(lambda: _answers(tg, 4242), timeout=30, what="the held answer")

        asyncio.run(scenario())
        said = [r.getMessage() for r in caplog.records if r.name == "kbot.database"]
        assert len([line for line in said if "unreachable" in line and "locked" in line]) == 1, said
        assert _tracebacks(caplog.records) == []
