"""`/kb add <url>`: fetch a public web page and index it, with live progress."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from bot.chat.commands.base import TOO_MANY_UPLOADS, CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    url = request.args.strip().strip("<>")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Reply("Give a web address, e.g. /kb add https://example.com/handbook.html", private=True)
    # A quick answer for the obvious case; the fetcher checks every hop again when the job runs.
    refusal = await asyncio.to_thread(env.url_policy.check_host, parts.hostname)
    if refusal is not None:
        return Reply(f"{refusal}.", private=True)
    if not await asyncio.to_thread(env.upload_allowed, request.incoming):
        return Reply(TOO_MANY_UPLOADS.format(n=env.uploads_per_hour), private=True)
    target = await post(f"{url} — queued")
    await asyncio.to_thread(env.jobs.enqueue_url, url, request.upload_scope, request.incoming.author, target)
    return Reply("")
