"""`/kb visibility`: whether answers in this channel go to everyone (public) or to the asker first
(private_first, with a "Share with the channel" button); admins choose per channel."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import REFUSED_ADMIN, CommandEnv, describe_choice
from bot.core.requests import CommandRequest, PostProgress, Reply

CHOICES = ("public", "private_first")
USAGE = "Use /kb visibility to see it, or (admins) /kb visibility public|private_first|default."
MEANING = {
    "public": "answers are posted for everyone in the channel",
    "private_first": "answers go to the asker alone first, with a button to share them with the channel",
}


def describe(name: str, configured: str, chosen: bool) -> str:
    return describe_choice(f"Visibility here is {name}", MEANING[name], name, configured, chosen)


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    words = request.args.lower().replace("-", "_").split()
    key = request.incoming.key
    if env.channel_scopes is None:
        return Reply("Visibility settings are not available here.", private=True)
    if not words:
        choice = await asyncio.to_thread(env.channel_scopes.choice, key)
        name = choice.visibility or env.default_visibility
        return Reply(f"{describe(name, env.default_visibility, bool(choice.visibility))} {USAGE}", private=True)
    if len(words) != 1 or words[0] not in (*CHOICES, "default"):
        return Reply(USAGE, private=True)
    if not request.incoming.is_admin:
        return Reply(REFUSED_ADMIN, private=True)
    wanted = words[0]
    choice = await asyncio.to_thread(env.channel_scopes.choose, key, request.incoming.author,
                                     visibility="" if wanted == "default" else wanted)
    return Reply(describe(choice.visibility or env.default_visibility, env.default_visibility,
                          bool(choice.visibility)))
