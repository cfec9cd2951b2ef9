"""The terminal as a reply port: streams text as it grows, then prints the answer's sources."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.adapters.formatting import answer_markdown
from bot.core.messages import Answer, PortLimits
from bot.core.pacing import UNPACED


class ConsolePort:
    limits = PortLimits(max_length=1_000_000, min_edit_interval_s=0.03)
    pacing = UNPACED

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout  # looked up now: whatever stdout is when the answer starts
        self.printed = ""
        self.failed: str | None = None

    def _write_growth(self, text: str) -> None:
        if text.startswith(self.printed):
            self.out.write(text[len(self.printed) :])
        else:  # the text changed under us: start a fresh line
            self.out.write("\n" + text)
        self.printed = text
        self.out.flush()

    async def start(self) -> None:
        pass

    async def update(self, index: int, text: str) -> None:
        self._write_growth(text)

    async def finish(self, answer: Answer) -> None:
        self._write_growth(answer_markdown(answer))
        self.out.write("\n")
        self.out.flush()

    async def fail(self, message: str) -> None:
        self.failed = message
        if self.printed:
            self.out.write("\n")
        self.out.write(message + "\n")
        self.out.flush()


class SilentPort:
    """Keeps the final answer without printing (for --json)."""

    limits = PortLimits(max_length=1_000_000, min_edit_interval_s=3600)
    pacing = UNPACED

    def __init__(self) -> None:
        self.answer: Answer | None = None
        self.failed: str | None = None

    async def start(self) -> None:
        pass

    async def update(self, index: int, text: str) -> None:
        pass

    async def finish(self, answer: Answer) -> None:
        self.answer = answer

    async def fail(self, message: str) -> None:
        self.failed = message
