"""A parser in a child process: a fresh interpreter with its address space capped, fed the file on
stdin, answering in JSON lines that the parent reads against a deadline (which may grow as the child
says how much work there is). A hostile file can only take down the child; kbot gets a reason."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from bot.rag.parsing.types import ParseError


class ChildParser:
    """`python -m MODULE ARGS...` < data. `what` names it in reasons ("the PDF parser")."""

    def __init__(self, module: str, args: list[str], data: bytes, *, what: str, memory_reason: str) -> None:
        self.what = what
        self.memory_reason = memory_reason
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        # Feed stdin from a thread: the child may answer (or die) before it has read everything.
        self._feeder = threading.Thread(target=self._feed, args=(data,), daemon=True)
        self._feeder.start()
        self._selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        self._fd = self.process.stdout.fileno()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self._buffer = b""
        self.started = time.monotonic()

    def _feed(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def records(self, deadline_s: Callable[[], float], too_slow: Callable[[], str]) -> Iterator[dict[str, Any]]:
        """Each JSON record; ParseError(too_slow()) once `deadline_s()` seconds have passed since the
        start (asked again after every record), ParseError when the child dies or talks nonsense."""
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    record = json.loads(line)
                except ValueError:
                    raise ParseError(self._death_reason()) from None
                if not isinstance(record, dict):
                    raise ParseError(self._death_reason())
                yield record
            remaining = self.started + deadline_s() - time.monotonic()
            if remaining <= 0:
                raise ParseError(too_slow())
            if not self._selector.select(timeout=min(remaining, 1.0)):
                continue
            chunk = os.read(self._fd, 1 << 20)
            if not chunk:
                raise ParseError(self._death_reason())
            self._buffer += chunk

    def _death_reason(self) -> str:
        try:
            exitcode = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # alive but talking nonsense: stop it
            self.process.kill()
            return f"{self.what} stopped unexpectedly; the file may be damaged"
        if exitcode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, 1):
            # Out of address space inside native code shows up as a kill or an abort.
            return self.memory_reason
        return f"{self.what} stopped unexpectedly (exit code {exitcode}); the file may be damaged"

    def close(self) -> None:
        self._selector.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()
