"""`/kb gaps [days]`: what the knowledge base is missing here (admins: in the whole workspace)."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import CommandEnv
from bot.core.periods import parse_days
from bot.core.requests import CommandRequest, PostProgress, Reply
from bot.insights.gaps import EVERYWHERE, Area
from bot.insights.reports import gap_report

OFF = "Coverage analytics are switched off (analytics.enabled in config.yaml), so no gaps are recorded."


def days_asked(request: CommandRequest, env: CommandEnv, default: int, command: str) -> tuple[int, Reply | None]:
    """The `[days]` argument of /kb gaps and /kb stats, or the reply instead (analytics off, bad number)."""
    if env.gaps is None or not env.gaps.enabled:
        return 0, Reply(OFF, private=True)
    days, problem = parse_days(request.args, default, command)
    return (days, None) if days is not None else (0, Reply(problem or "", private=True))


def area_for(request: CommandRequest) -> Area:
    """This channel; an admin's whole workspace; everything from the operator's terminal."""
    if request.everywhere:
        return EVERYWHERE
    key = request.incoming.key
    if request.incoming.is_admin:
        return Area(key.platform, key.workspace, shown_in=key.channel)
    return Area(key.platform, key.workspace, key.channel, shown_in=key.channel)


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    days, refusal = days_asked(request, env, 30, "/kb gaps")
    if refusal is not None:
        return refusal
    assert env.gaps is not None
    report = await asyncio.to_thread(gap_report, env.gaps, env.knowledge_base, area_for(request), days)
    return Reply(report.text(), private=True)
