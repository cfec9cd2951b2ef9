"""`/kb scope`: which knowledge this place answers from."""

from __future__ import annotations

import asyncio

from bot.commands.base import CommandEnv, CommandRequest, PostProgress, Reply
from bot.scopes import GLOBAL


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    sources = await asyncio.to_thread(env.knowledge_base.sources, sorted(request.incoming.scopes))
    counts: dict[str, int] = {}
    for info in sources:
        counts[info.scope] = counts.get(info.scope, 0) + 1
    lines = ["Answers here come from:"]
    for scope in sorted(request.incoming.scopes, key=lambda s: (s == GLOBAL, s)):
        what = "the shared knowledge/ folder" if scope == GLOBAL else f"documents uploaded to {scope}"
        lines.append(f"• {what} ({counts.get(scope, 0)} documents)")
    lines.append(f"Uploads here land in {request.upload_scope}.")
    return Reply("\n".join(lines), private=True)
