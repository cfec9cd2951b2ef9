"""What a platform adapter may ask of the running bot, and nothing more: adapters call these, never
the service's insides (its gate, memory or access control)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from bot.core.messages import Answer, Incoming, ReplyPort, ThreadKey
from bot.core.requests import Admission, CommandRequest, Place, PostProgress, Reply


class ServicePort(Protocol):
    async def claim(self, platform: str, event_key: str) -> bool:
        """The first delivery of this platform event? Repeats are dropped."""
        ...

    async def admit(self, incoming: Incoming) -> Admission:
        """The gate (place, length, rates, scope choices), for a message something is written before."""
        ...

    def submit(self, incoming: Incoming, port_factory: Callable[[], ReplyPort], *, admitted: bool = False,
               private_port: Callable[[], ReplyPort] | None = None) -> asyncio.Task[Answer | None]:
        """Answer in the background; the platform's handler returns at once."""
        ...

    def private_first(self, incoming: Incoming) -> bool:
        """Does an answer here go to the asker alone first?"""
        ...

    async def command(self, name: str, request: CommandRequest, post: PostProgress) -> Reply:
        """Run one `/kb` command."""
        ...

    async def vote(self, platform: str, reply_id: str, user: str, value: int) -> str:
        """A 👍/👎 click; returns the acknowledgement to show."""
        ...

    async def share(self, platform: str, reply_id: str, user: str, channel: str) -> Answer | str:
        """A private answer to post in `channel`, or why it can't be."""
        ...

    async def explain(self, place: Place, reply_id: str, *, once_per_minutes: int = 0) -> str | None:
        """The "why these sources?" text for an answer given in `place`."""
        ...

    def trust(self, platform: str, workspace: str) -> None:
        """A place the platform itself vouches for (the workspace that installed the Slack app)."""
        ...

    async def knows_thread(self, key: ThreadKey) -> bool:
        """Has kbot answered in this thread (so a follow-up there needs no mention)?"""
        ...
