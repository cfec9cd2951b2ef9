"""`/kb status [job]`: running and recent indexing jobs of this place, with their progress."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    own = request.own_scopes
    wanted = request.args.strip().lstrip("#")
    if wanted:
        if not wanted.isdigit():
            return Reply("Give the job's number, e.g. /kb status 12 (or /kb status for all).", private=True)
        job = await asyncio.to_thread(env.jobs.get, int(wanted))
        if job is None or job.scope not in own:
            return Reply(f"There is no job {wanted} here.", private=True)
        return Reply(f"#{job.id} {job.describe()}", private=True)
    jobs = await asyncio.to_thread(env.jobs.recent, own, 10)
    if not jobs:
        return Reply("No indexing jobs here yet.", private=True)
    return Reply("\n".join(f"#{job.id} {job.describe()}" for job in jobs), private=True)
