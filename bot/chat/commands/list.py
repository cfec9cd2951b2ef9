"""`/kb list`: the documents visible here, with chunk counts, uploader and when indexed."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply
from bot.core.scopes import GLOBAL
from bot.core.shown import safe_name


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    sources = await asyncio.to_thread(env.knowledge_base.sources, sorted(request.incoming.scopes))
    if not sources:
        return Reply("No documents are answerable here yet. Add one with /kb upload or /kb add <url>.", private=True)
    lines = [f"{len(sources)} document(s) answerable here:"]
    for info in sorted(sources, key=lambda s: (s.scope == GLOBAL, s.source)):
        pages = f", {info.pages} pages" if info.pages else ""
        who = f", by {info.uploader}" if info.uploader else ""
        when = f", indexed {info.indexed_at.replace('T', ' ')[:16]} UTC" if info.indexed_at else ""
        where = "shared knowledge" if info.scope == GLOBAL else "uploaded here"
        lines.append(f"• {safe_name(info.source)} — {info.chunks} chunks{pages}{who}{when} ({where})")
    return Reply("\n".join(lines[:60]), private=True)
