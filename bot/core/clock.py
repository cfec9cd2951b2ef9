"""Time as kbot's pacing sees it: edit budgets, streaming intervals, model deadlines and retries,
readiness probes. One object, passed in by the composition root, so that the same pacing can run on
scaled time (the tests run it ten times faster, with every platform limit kept in proportion)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on this clock, for intervals only (no epoch)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    def real_seconds(self, seconds: float) -> float:
        """How long `seconds` of this clock's time lasts on the wall: for timeouts handed to asyncio or
        to a library, which count real seconds."""
        ...


class SystemClock:
    """The real one."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def real_seconds(self, seconds: float) -> float:
        return seconds


SYSTEM_CLOCK: Clock = SystemClock()


async def wait_for(clock: Clock, awaitable: Awaitable[T], seconds: float) -> T:
    """`asyncio.wait_for` with a timeout in the clock's seconds."""
    return await asyncio.wait_for(awaitable, clock.real_seconds(seconds))
