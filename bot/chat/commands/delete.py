"""`/kb delete <document>`: removes every copy of it (chunks, job rows, stored upload, the turns that
quoted it). Admins only (the command table checks it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.chat.commands.base import CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    name = request.args.strip()
    if not name:
        return Reply("Which document? e.g. /kb delete handbook.pdf (see /kb list).", private=True)
    own = sorted(request.own_scopes)
    sources = await asyncio.to_thread(env.knowledge_base.sources, own)
    matches = [s for s in sources if name in (s.source, Path(s.source).name)]
    if not matches:
        return Reply(f"No document called {name} was uploaded here (see /kb list). The shared knowledge/ "
                     "folder is managed with `kbot delete` on the server.", private=True)
    removed = 0
    for info in matches:
        removed += (await asyncio.to_thread(env.remover.remove, info.source, info.scope)).chunks
    return Reply(f"Deleted {name}: {removed} chunks, its job records and its stored file, and what kbot "
                 "remembered quoting from it.")
