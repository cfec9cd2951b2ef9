"""Pacing and splitting of an answer while it is being written, and the budgets every write draws on.

Tokens are coalesced and sent no faster than the port's minimum edit interval; text longer than
the port's limit continues in a new message, split where no word, link or citation is cut. The
final answer goes to the port as data (`ReplyPort.finish`): the port renders it, splits it with
`split_text` and sends it on the same budgets, waiting for its turn instead of skipping.
"""

from __future__ import annotations

import functools
import re

from bot.core.clock import SYSTEM_CLOCK, Clock
from bot.core.messages import Answer, ReplyPort
from bot.core.shown import keep_known_links

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
                elif not await budget.write(functools.partial(self.port.update, index, shown), must=must,
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

