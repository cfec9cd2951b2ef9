"""`/kb gaps [days]`: what the knowledge base is missing here (admins: in the whole workspace)."""

from __future__ import annotations

import asyncio

from bot.analytics import EVERYWHERE, Area
from bot.commands.base import CommandEnv, CommandRequest, PostProgress, Reply
from bot.gap_report import gap_report, parse_days

OFF = "Coverage analytics are switched off (analytics.enabled in config.yaml), so no gaps are recorded."


def area_for(request: CommandRequest) -> Area:
    """This channel; an admin's whole workspace; everything from the operator's terminal."""
    if request.everywhere:
        return EVERYWHERE
    key = request.incoming.key
    if request.incoming.is_admin:
        return Area(key.platform, key.workspace)
    return Area(key.platform, key.workspace, key.channel)


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    if env.gaps is None or not env.gaps.enabled:
        return Reply(OFF, private=True)
    days, problem = parse_days(request.args, 30, "/kb gaps")
    if days is None:
        return Reply(problem or "", private=True)
    report = await asyncio.to_thread(gap_report, env.gaps, env.knowledge_base, area_for(request), days)
    return Reply(report.text(), private=True)
