"""`/kb approve CODE`: let a new place (a chat, server or workspace that asked) use kbot. kbot's own
admins only (the command table checks it)."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply
from bot.state.rates import Limit

REFUSED = ("Only kbot's own admins (the `admins` list in its config) can approve new places; chat and server "
           "admins cannot.")
# Codes are eight characters from 32: guessing one takes a million tries. Whoever types them (a kbot
# admin's account can be taken over too) gets a few a minute; `kbot access approve` on the server is not counted.
GUESSES_PER_MINUTE = 5
SLOW_DOWN = "Too many codes tried; wait a minute, or approve it on the server with `kbot access approve CODE`."


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    code = request.args.strip()[:40]
    if not code:
        return Reply("Which code? e.g. /kb approve K7QX-4MPD (the code the new place was given).", private=True)
    key = request.incoming.key
    guesses = Limit("approve", f"approve:{key.platform}:{request.incoming.author}", GUESSES_PER_MINUTE, 60)
    if await asyncio.to_thread(env.rates.admit, [guesses]) is not None:
        return Reply(SLOW_DOWN, private=True)
    place = await asyncio.to_thread(env.access.approve, code, f"{request.incoming.key.platform}:"
                                                             f"{request.incoming.author}")
    if place is None:
        return Reply(f"No place is waiting with the code {code}. Codes are shown to a place the first time "
                     "someone there asks; `kbot access` on the server lists them.", private=True)
    where = f"{place.platform}:{place.workspace}"
    shown = f"{place.name} ({where})" if place.name and place.name != place.workspace else where
    return Reply(f"Approved {shown}: kbot now answers there.", private=True)
