"""The platform-free vocabulary of a conversation: who asked what where, and where the answer goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ThreadKey:
    """One thread's identity; its memory is keyed by all four parts."""

    platform: str
    workspace: str
    channel: str
    thread: str

    def __str__(self) -> str:
        return ":".join((self.platform, self.workspace, self.channel, self.thread))


@dataclass(frozen=True)
class Incoming:
    """A normalized message. `scopes` come from the verified event, never from the text."""

    key: ThreadKey
    author: str
    text: str
    scopes: frozenset[str]
    is_admin: bool = False
    attachments: tuple[Any, ...] = ()
    raw: Any = None
    operator: bool = False  # listed in the platform's `admins`: may approve new places
    place_name: str = ""  # the workspace, server or chat as people know it (shown to whoever approves it)


@dataclass(frozen=True)
class Source:
    """A cited passage: the number the answer uses for it, and where it came from."""

    number: int
    source: str
    title: str | None
    page: int | None
    heading: str | None
    url: str | None
    score: float
    text: str

    def label(self) -> str:
        name = self.title or self.source
        parts = [name]
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.heading and self.heading != name:
            parts.append(self.heading)
        return ", ".join(parts)


@dataclass(frozen=True)
class PortLimits:
    """What a reply port can take: the longest message, the fastest edits, native streaming."""

    max_length: int
    min_edit_interval_s: float
    native_stream: bool = False


@dataclass
class Answer:
    text: str
    sources: list[Source] = field(default_factory=list)
    mode: str = "extractive"
    grounded: bool = True  # False when nothing relevant was found
    reply_id: str = ""  # what feedback buttons carry back to find this turn
    retrieval_s: float | None = None
    first_token_s: float | None = None  # from the question to the first streamed token
    tokens: int = 0  # streamed pieces (LLM tokens, or words in extractive mode)


class ReplyPort(Protocol):
    """Implemented per adapter. `bot/streaming` calls it; nothing else paces or splits."""

    limits: PortLimits

    async def start(self) -> None:
        """The question was received: show that kbot is working on it."""

    async def update(self, index: int, text: str) -> None:
        """Set message `index` of this reply to plain `text`; index == messages so far adds one."""

    async def finish(self, parts: list[str], answer: Answer) -> None:
        """The final, formatted messages (one per part) and the sources they cite."""

    async def fail(self, message: str) -> None:
        """End the reply with one short message for the person."""
