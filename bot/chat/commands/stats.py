"""`/kb stats [days]`: questions, answered share, 👍/👎, new documents and the top gaps here."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import CommandEnv
from bot.chat.commands.gaps import area_for, days_asked
from bot.core.requests import CommandRequest, PostProgress, Reply
from bot.insights.reports import stats_report


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    days, refusal = days_asked(request, env, 7, "/kb stats")
    if refusal is not None:
        return refusal
    assert env.gaps is not None
    scopes = None if request.everywhere else sorted(request.incoming.scopes)
    report = await asyncio.to_thread(stats_report, env.gaps, env.knowledge_base, area_for(request), days, scopes)
    return Reply(report.text(), private=True)
