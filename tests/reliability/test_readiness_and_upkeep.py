"""Promise: /readyz tells the truth about each platform, and no table grows without bound."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.state.db import DeliveryRow, GapRow, PairingRequestRow, RateCounterRow
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, http_get, knowledge_bot, platform_settings, running_bot


def test_readyz_reports_telegram_down_while_its_api_is_unreachable(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                url = f"http://127.0.0.1:{running.ops.port}/readyz"
                assert (await asyncio.to_thread(http_get, url))[0] == 200
                tg.state.down = True

                async def telegram_ready() -> bool:
                    status, body = await asyncio.to_thread(http_get, url)
                    return status == 503 and json.loads(body)["checks"] == {
                        "store": True, "database": True, "telegram": False}

                await eventually_async(telegram_ready, what="telegram reported down")
                tg.state.down = False

                async def back() -> bool:
                    return (await asyncio.to_thread(http_get, url))[0] == 200

                await eventually_async(back, what="telegram reported back")

        asyncio.run(scenario())


async def eventually_async(check, what: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_delivery_records_rate_counters_and_stale_codes_are_pruned_on_schedule(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base},
            server={"dedup_window_hours": 24})
        app = knowledge_bot(settings, {})
        engine = app.memory.engine
        now = datetime.now(UTC)

        def count(row: type) -> int:
            with Session(engine) as session:
                return int(session.scalar(select(func.count()).select_from(row)) or 0)

        async def scenario() -> None:
            async with running_bot(app) as running:
                tg.user_message(4242, "How many vacation days do we get?")
                await eventually(lambda: count(DeliveryRow) == 1, what="the delivery row")
                with Session(engine) as session, session.begin():
                    session.add(DeliveryRow(platform="telegram", event_key="old", created_at=now - timedelta(hours=30)))
                    session.add(RateCounterRow(key="q:old", window_start=int(now.timestamp()) - 86_400, count=3))
                    session.add(PairingRequestRow(code="OLDC-ODE1", platform="telegram", workspace="-1", name="",
                                                  requested_by="1", created_at=now - timedelta(days=40)))
                    for age in (100, 10):  # analytics.keep_days is 90
                        session.add(GapRow(platform="telegram", workspace="-1", channel="-1", question=f"q{age}",
                                           nothing_found=True, created_at=now - timedelta(days=age)))
                removed = await running.housekeeping.run_once()
                assert removed == {"delivery records": 1, "rate counters": 1, "stale pairing requests": 1,
                                   "coverage gaps": 1}
                assert count(DeliveryRow) == 1 and count(RateCounterRow) == 0 and count(PairingRequestRow) == 0
                assert count(GapRow) == 1

        asyncio.run(scenario())
