"""Scaled time for the tests: kbot's pacing (edit budgets, streaming intervals, model deadlines,
retries) and the fakes' platform limits run on one clock that goes ten times faster than the wall.
Every limit keeps its proportions, so what a test checks (edits paced under a platform's limit, a
final that never waits a window) holds as it does in real time, in a tenth of it.

A bot run in a separate process (`kbot run` in a subprocess) runs on real time: the fakes it talks
to are given `REAL` instead.
"""

from __future__ import annotations

import asyncio
import os
import time


class ScaledClock:
    """A `bot.core.clock.Clock` running `speed` times faster than the wall clock."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.monotonic()

    def monotonic(self) -> float:
        return self._origin + (time.monotonic() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.speed

    def block(self, seconds: float) -> None:
        """A blocking sleep of `seconds` of this clock's time (the fakes' server threads)."""
        time.sleep(seconds / self.speed)


class RealClock(ScaledClock):
    def __init__(self) -> None:
        super().__init__(1.0)


# KBOT_TEST_CLOCK_SPEED=1 runs the suite on real time (to tell a pacing bug from a scaling one).
TEST_CLOCK = ScaledClock(float(os.environ.get("KBOT_TEST_CLOCK_SPEED", "10")))
REAL = RealClock()
