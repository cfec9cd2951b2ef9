"""`/kb upload`: check the attached file, keep it, and queue it for indexing with live progress."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import TOO_MANY_UPLOADS, CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply
from bot.rag.parsing import ParseError, kind_for
from bot.rag.parsing.url import too_large

HOW = ("Attach the file to the command: send the document with the caption /kb upload, or reply /kb upload "
       "to a document already in the chat.")


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    upload = request.upload
    if upload is None:
        return Reply(HOW, private=True)
    try:
        kind_for(upload.filename)
    except ParseError as exc:
        return Reply(f"{upload.filename}: {exc.reason}.", private=True)
    if upload.size == 0:
        return Reply(f"{upload.filename} is empty.", private=True)
    if upload.size > request.max_upload_bytes:
        return Reply(f"{upload.filename}: {too_large(upload.size, request.max_upload_bytes)}.", private=True)
    if not await asyncio.to_thread(env.upload_allowed, request.incoming):
        return Reply(TOO_MANY_UPLOADS.format(n=env.uploads_per_hour), private=True)
    target = await post(f"{upload.filename} — queued")
    data = await upload.fetch()
    await asyncio.to_thread(env.jobs.enqueue_file, data, upload.filename, request.upload_scope,
                            request.incoming.author, target)
    return Reply("")
