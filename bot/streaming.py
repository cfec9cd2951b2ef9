"""Pacing and splitting of an answer while it is being written, and the budgets every write draws on.

Tokens are coalesced and sent no faster than the port's minimum edit interval; text longer than
the port's limit continues in a new message, split where no word, link or citation is cut. The
final answer goes to the port as data (`ReplyPort.finish`): the port renders it, splits it with
`split_text` and sends it on the same budgets, waiting for its turn instead of skipping.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.clock import SYSTEM_CLOCK, Clock
from bot.messages import Answer, ReplyPort
from bot.shown import keep_known_links

WRITING_MARK = " …"  # what ports show after text that is still being written

# Places a split must not fall inside: URLs, [n] citations, Markdown links.
_UNBREAKABLE = re.compile(r"\[[^\]\n]{0,200}\]\([^)\s]{0,2000}\)|https?://\S+|\[\d+(?:,\s*\d+)*\]")


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, broken at paragraph, line or word boundaries."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    protected = [(m.start(), m.end()) for m in _UNBREAKABLE.finditer(text, 0, min(len(text), limit + 2100))]

    def inside(position: int) -> bool:
        return any(start < position < end for start, end in protected)

    for separator in ("\n\n", "\n", " "):
        position = text.rfind(separator, 0, limit + 1)
        while position > 0:
            if not inside(position):
                return position + (len(separator) if separator != " " else 0) or position
            position = text.rfind(separator, 0, position)
    return limit  # one unbroken run longer than a message: nothing better exists


def put(parts: list[str], index: int, text: str) -> None:
    """Set message `index` of a reply's parts, or add it as the next one."""
    if index < len(parts):
        parts[index] = text
    else:
        parts.append(text)


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


class Streamer:
    """Feeds one reply: `push` tokens as they come, then `finish` or `fail`."""

    def __init__(self, port: ReplyPort, clock: Clock = SYSTEM_CLOCK) -> None:
        self.port = port
        self.clock = clock
        self.text = ""
        self._sent: list[str] = []
        self._last_update = float("-inf")
        self.calls = 0  # port.update calls made
        self.tokens = 0
        self.first_token_at: float | None = None
        # Room for the "still writing" mark a port may show after intermediate text (" …").
        self._limit = max(port.limits.max_length - len(WRITING_MARK), 1)

    async def push(self, token: str) -> None:
        if self.first_token_at is None:
            self.first_token_at = self.clock.monotonic()
        self.tokens += 1
        self.text += token
        if self.clock.monotonic() - self._last_update >= self.port.limits.min_edit_interval_s:
            await self._flush()

    async def _flush(self, must: bool = False) -> None:
        # Which links the answer may show is known only once it is done: until then none is clickable.
        parts = split_text(keep_known_links(self.text, set()), self._limit)
        for index, part in enumerate(parts):
            shown = part.rstrip()
            already = self._sent[index] if index < len(self._sent) else None
            if shown != already and shown:
                # A port may pace new messages and edits differently (Slack: only chat.update is tiered).
                budget = self.port.pacing.edits if already is not None else self.port.pacing.posts
                if budget is None:
                    await self.port.update(index, shown)
                elif not await budget.write(lambda i=index, t=shown: self.port.update(i, t), must=must,
                                            keep=budget.calls // 2):
                    break  # the shared budget is spent: this edit waits for the next flush
                self.calls += 1
                put(self._sent, index, shown)
        self._last_update = self.clock.monotonic()

    async def finish(self, answer: Answer) -> None:
        """The final answer, as data: the port renders, splits and sends it (waiting on its budgets)."""
        await self.port.finish(answer)

    async def fail(self, message: str) -> None:
        """End with a short message; text that arrived but was not shown yet is shown first (a cut-off
        answer is marked after all of what came)."""
        if self.text.strip():
            await self._flush(must=True)
        await self.port.fail(message)

