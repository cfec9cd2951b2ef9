"""`/kb preset`: how much work answers here do (fast, balanced, accurate); admins choose per channel."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import REFUSED_ADMIN, CommandEnv, describe_choice
from bot.core.requests import CommandRequest, PostProgress, Reply
from bot.rag.pipeline.presets import DESCRIPTIONS, PRESETS

USAGE = "Use /kb preset to see it, or (admins) /kb preset fast|balanced|accurate|default."


def describe(name: str, configured: str, chosen: bool) -> str:
    return describe_choice(f"Answers here use the {name} preset", DESCRIPTIONS.get(name, ""), name, configured,
                           chosen)


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    words = request.args.lower().split()
    key = request.incoming.key
    if env.channel_scopes is None:
        return Reply("Presets are not available here.", private=True)
    if not words:
        choice = await asyncio.to_thread(env.channel_scopes.choice, key)
        name = choice.preset or env.default_preset
        others = ", ".join(f"{p} ({DESCRIPTIONS[p]})" for p in PRESETS if p != name)
        return Reply(f"{describe(name, env.default_preset, bool(choice.preset))}\nOthers: {others}. {USAGE}",
                     private=True)
    if len(words) != 1 or words[0] not in (*PRESETS, "default"):
        return Reply(USAGE, private=True)
    if not request.incoming.is_admin:
        return Reply(REFUSED_ADMIN, private=True)
    wanted = words[0]
    choice = await asyncio.to_thread(env.channel_scopes.choose, key, request.incoming.author,
                                     preset="" if wanted == "default" else wanted)
    name = choice.preset or env.default_preset
    return Reply(describe(name, env.default_preset, bool(choice.preset)))
