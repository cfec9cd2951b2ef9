"""A resolved thread as a document: the question, kbot's answer and the people's replies after it, in
Markdown, with the thread's permalink as its source (so citations link back to the conversation)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.excerpt import excerpt
from bot.core.messages import ThreadKey
from bot.core.redaction import redact as default_redact
from bot.core.requests import ThreadMessage
from bot.state.memory import ThreadMemory

MAX_MESSAGES = 200
KB_COMMAND = re.compile(r"^/?kb(@\w+)?(\s|$)", re.IGNORECASE)  # `kb save` itself is not part of the thread
MAX_CHARS = 200_000


def from_memory(memory: ThreadMemory, key: ThreadKey) -> list[ThreadMessage]:
    """The thread as kbot remembers it: each question and its answer. Blocking: database."""
    messages: list[ThreadMessage] = []
    for turn in memory.turns(key):
        messages += [ThreadMessage("question", turn.question), ThreadMessage("kbot", turn.answer, by_kbot=True)]
    return messages


def _title(messages: list[ThreadMessage]) -> str:
    first = next((m.text for m in messages if not m.by_kbot and m.text.strip()), "a saved thread")
    return excerpt(first, 120)


def thread_document(messages: list[ThreadMessage], source: str,
                    redact: Callable[[str], str] = default_redact) -> tuple[str, int]:
    """The Markdown document and how many messages it holds (the first MAX_MESSAGES, MAX_CHARS at most),
    personal data in the messages replaced by tags (it becomes knowledge the whole place can read)."""
    kept = [m for m in messages if m.text.strip() and not KB_COMMAND.match(m.text.strip())][:MAX_MESSAGES]
    lines = [f"# {redact(_title(kept))}", "", f"A conversation saved from chat: {source}", ""]
    size = 0
    for message in kept:
        who = "kbot" if message.by_kbot else message.author
        body = redact(message.text.strip())
        size += len(body)
        if size > MAX_CHARS:
            break
        lines += [f"**{who}:** {body}", ""]
    return "\n".join(lines), len(kept)
