"""`/kb scope`: which knowledge this place answers from; admins can switch the shared parts off and on."""

from __future__ import annotations

import asyncio
import functools

from bot.chat.commands.base import REFUSED_ADMIN, CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply
from bot.core.scopes import GLOBAL

USAGE = "Use /kb scope, or (admins) /kb scope global on|off and /kb scope workspace on|off."


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    words = request.args.lower().split()
    key = request.incoming.key
    scopes = set(request.incoming.scopes)
    if words:
        if len(words) != 2 or words[0] not in ("global", "workspace") or words[1] not in ("on", "off"):
            return Reply(USAGE, private=True)
        if not request.incoming.is_admin:
            return Reply(REFUSED_ADMIN, private=True)
        if env.channel_scopes is None:
            return Reply("Scope choices are not available here.", private=True)
        on = words[1] == "on"
        choice = await asyncio.to_thread(functools.partial(
            env.channel_scopes.choose, key, request.incoming.author,
            use_global=on if words[0] == "global" else None, use_workspace=on if words[0] == "workspace" else None))
        scopes = set(choice.apply(request.incoming.granted, key))  # the event's grant, under the new choice
    sources = await asyncio.to_thread(env.knowledge_base.sources, sorted(scopes))
    counts: dict[str, int] = {}
    for info in sources:
        counts[info.scope] = counts.get(info.scope, 0) + 1
    lines = ["Answers here come from:" if scopes else "Answers here use no knowledge at all (see /kb scope)."]
    for scope in sorted(scopes, key=lambda s: (s == GLOBAL, s)):
        what = "the shared knowledge/ folder" if scope == GLOBAL else f"documents uploaded to {scope}"
        lines.append(f"• {what} ({counts.get(scope, 0)} documents)")
    lines.append(f"Uploads here land in {request.upload_scope}.")
    if env.channel_scopes is not None:
        choice = await asyncio.to_thread(env.channel_scopes.choice, key)
        lines.append(f"Retrieval preset: {choice.preset or env.default_preset}"
                     f"{'' if choice.preset else ' (the configured default)'}; see /kb preset.")
    lines.append(USAGE)
    return Reply("\n".join(lines), private=not words)
