"""`/kb stats [days]`: questions, answered share, 👍/👎, new documents and the top gaps here."""

from __future__ import annotations

import asyncio

from bot.commands.base import CommandEnv, CommandRequest, PostProgress, Reply
from bot.commands.gaps import OFF, area_for
from bot.gap_report import parse_days, stats_report


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    if env.gaps is None or not env.gaps.enabled:
        return Reply(OFF, private=True)
    days, problem = parse_days(request.args, 7, "/kb stats")
    if days is None:
        return Reply(problem or "", private=True)
    scopes = None if request.everywhere else sorted(request.incoming.scopes)
    report = await asyncio.to_thread(stats_report, env.gaps, env.knowledge_base, area_for(request), days, scopes)
    return Reply(report.text(), private=True)
