"""The budgets every platform write draws on: at most so many calls per window, shared by every reply
in one workspace, chat or channel (platforms rate-limit per place, not per reply)."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.clock import SYSTEM_CLOCK, Clock


class EditBudget:
    """At most `calls` message writes per `window_s`, shared by every reply drawing on it.

    Platforms rate-limit per workspace (Slack's chat.update tier) or per chat (Telegram, Discord),
    not per reply. The Streamer skips an intermediate edit when the budget is spent, and leaves
    half of each window to final messages; a port's final and failure writes go through
    `write(..., must=True)`, so they wait their turn instead.
    """

    def __init__(self, calls: int, window_s: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.calls = calls
        self.window_s = window_s
        self.clock = clock
        self._stamps: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._stamps and now - self._stamps[0] >= self.window_s:
            self._stamps.popleft()

    def settle(self) -> None:
        """A write just completed: count the window from now, so the platform sees the spacing too
        (a request can wait on the network or the event loop between `take` and its arrival)."""
        if self._stamps:
            self._stamps[-1] = max(self._stamps[-1], self.clock.monotonic())

    def try_take(self, keep: int = 0) -> bool:
        """Take a call now if one is free, leaving `keep` of the window's calls for others."""
        now = self.clock.monotonic()
        self._expire(now)
        if len(self._stamps) < self.calls - keep:
            self._stamps.append(now)
            return True
        return False

    async def acquire(self, must: bool, keep: int = 0) -> bool:
        """A call for a write that must land (waits for one), or may be skipped (False when none is free)."""
        if must:
            await self.take()
            return True
        return self.try_take(keep)

    async def take(self) -> None:
        while not self.try_take():
            await self.clock.sleep(max(self._stamps[0] + self.window_s - self.clock.monotonic(), 0.01))

    async def write(self, call: Callable[[], Awaitable[object]], *, must: bool = True, keep: int = 0) -> bool:
        """One platform write on this budget: it waits for a slot (`must`), or is skipped (False) when
        none is free beyond `keep`; the window counts from when the write completes."""
        if not await self.acquire(must, keep):
            return False
        try:
            await call()
        finally:
            self.settle()
        return True


@dataclass(frozen=True)
class Pacing:
    """The budgets a reply port's writes draw on: `edits` for changing a message, `posts` for a new
    one (one object for both where the platform paces them alike; None: not paced)."""

    edits: EditBudget | None = None
    posts: EditBudget | None = None


UNPACED = Pacing()


class EditBudgets:
    """One EditBudget per key (workspace, chat, channel), made on first use."""

    def __init__(self, calls: int, window_s: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.calls = calls
        self.window_s = window_s
        self.clock = clock
        self._budgets: dict[str, EditBudget] = {}

    def __getitem__(self, key: str) -> EditBudget:
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = EditBudget(self.calls, self.window_s, self.clock)
        return budget
