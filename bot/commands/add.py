"""`/kb add <url>`: fetch a public web page and index it, with live progress."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from bot.commands.base import CommandEnv, CommandRequest, PostProgress, Reply
from bot.commands.upload import rate_limited


def private_address(host: str) -> bool:
    """Does `host` resolve to a loopback, private, link-local or otherwise internal address?"""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable: the fetch itself will say so
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return True
    return False


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    url = request.args.strip().strip("<>")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Reply("Give a web address, e.g. /kb add https://example.com/handbook.html", private=True)
    if not env.allow_private_urls and await asyncio.to_thread(private_address, parts.hostname):
        return Reply(f"{parts.hostname} is on a private or local network; kbot only fetches public pages.",
                     private=True)
    if rate_limited(env, request.incoming.author):
        return Reply(f"You have added {env.uploads_per_hour} documents in the last hour; please wait a while.",
                     private=True)
    target = await post(f"{url} — queued")
    await asyncio.to_thread(env.jobs.enqueue_url, url, request.upload_scope, request.incoming.author, target)
    return Reply("")
