"""`/kb save`: the thread it runs in becomes a document in this place's knowledge (saving again
replaces it), cited with a link back to the thread."""

from __future__ import annotations

import asyncio

from bot.chat.commands.base import TOO_MANY_UPLOADS, CommandEnv
from bot.chat.commands.saved_threads import from_memory, thread_document
from bot.core.redaction import redact
from bot.core.requests import CommandRequest, PostProgress, Reply, ThreadMessage

NOT_IN_A_THREAD = ("Run /kb save inside the thread you want to keep (on Slack: type `kb save` in the thread; "
                   "on Telegram: reply /kb save to a message of the conversation).")
NOTHING = ("There is nothing to save here yet: run /kb save in a thread where kbot has answered (on Telegram, "
           "as a reply to one of its answers).")


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    capture = request.thread
    if capture is None:
        return Reply(NOT_IN_A_THREAD, private=True)
    if not await asyncio.to_thread(env.upload_allowed, request.incoming):
        return Reply(TOO_MANY_UPLOADS.format(n=env.uploads_per_hour), private=True)
    messages: list[ThreadMessage] = []
    if capture.read is not None:
        messages = await capture.read()
    if not messages and env.memory is not None:
        messages = await asyncio.to_thread(from_memory, env.memory, capture.key)
    if not any(m.text.strip() for m in messages):
        return Reply(NOTHING, private=True)
    text, count = thread_document(messages, capture.source, env.memory.redact if env.memory is not None else redact)
    outcome = await asyncio.to_thread(
        env.jobs.indexer.index_bytes, text.encode(), "markdown", capture.source, request.upload_scope,
        request.incoming.author, url=capture.source if capture.source.startswith("https://") else None)
    if outcome.status == "failed":
        return Reply(f"The thread could not be saved: {outcome.reason}.", private=True)
    if outcome.status == "unchanged":
        return Reply(f"This thread is already saved as it is ({capture.source}).", private=True)
    return Reply(f"Saved this thread ({count} messages, {outcome.chunks} chunks) to the knowledge base as "
                 f"{capture.source}; saving again replaces it. It shows in /kb list.", private=True)
