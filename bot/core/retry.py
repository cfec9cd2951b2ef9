"""kbot's one retry policy: how many tries, how long to wait between them, and the loops that apply it.

Used for LanceDB's optimistic commits (another writer won), the LLM before its first token (a 429
or a 5xx), and Telegram's RetryAfter on a final message. Each caller says what is worth another
try; the waiting is decided here, and every wait goes through the caller's clock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Exponential waits: `first_s`, doubling, at most `cap_s`; `jitter` spreads each wait by up to
    that fraction either way, so that racing processes do not retry in step."""

    attempts: int
    first_s: float
    cap_s: float
    jitter: float = 0.0

    def delay(self, attempt: int, draw: Callable[[], float] = random.random) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        base = min(self.first_s * 2 ** (attempt - 1), self.cap_s)
        return float(base * (1 + self.jitter * (2 * draw() - 1)))

    def more_after(self, attempt: int) -> bool:
        return attempt < self.attempts


def retry(step: Callable[[], T], policy: Backoff, retryable: Callable[[Exception], bool], *,
          sleep: Callable[[float], None] = time.sleep,
          on_retry: Callable[[int, Exception], None] | None = None) -> T:
    """`step()`, tried again after each failure `retryable` accepts, up to `policy.attempts` tries."""
    attempt = 1
    while True:
        try:
            return step()
        except Exception as exc:
            if not policy.more_after(attempt) or not retryable(exc):
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            sleep(policy.delay(attempt))
            attempt += 1


async def retry_async(step: Callable[[], Awaitable[T]], policy: Backoff,
                      wait_for: Callable[[Exception, int], float | None], *,
                      sleep: Callable[[float], Awaitable[None]]) -> T:
    """`await step()`, tried again while `wait_for(exc, attempt)` names a wait (None: give up). It
    may return the platform's own hint (Telegram's retry_after) or `policy.delay(attempt)`."""
    attempt = 1
    while True:
        try:
            return await step()
        except Exception as exc:
            wait = wait_for(exc, attempt) if policy.more_after(attempt) else None
            if wait is None:
                raise
            await sleep(wait)
            attempt += 1
