"""Runs an aiohttp application on 127.0.0.1 in a thread of its own, so any test (sync or async) can use it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import web

from tests.support.clock import TEST_CLOCK, ScaledClock

T = TypeVar("T")
F = TypeVar("F", bound="FakePlatform")


class ThreadedServer:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def in_server_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def call_soon(self, callback: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(Exception):  # a test is ending; the thread dies with it
                self.run(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class FakePlatform:
    """A platform fake's lifecycle: `with Fake() as fake:` serves it; leaving closes its WebSockets.

    Every write a fake receives is held to the rule for anything shown to a community: no link
    previews or unfurls, no mass mention that would ping. A write that breaks it is recorded in
    `policy_violations`, and leaving the `with` block fails the test, so no write path can forget.
    """

    def __init__(self, app: web.Application, clock: ScaledClock = TEST_CLOCK) -> None:
        self.server = ThreadedServer(app)
        # The platform's limits are counted on this clock: the tests' scaled one, as the bot's own
        # pacing is, or REAL for a bot that runs in a process of its own.
        self.clock = clock
        self._sockets: list[web.WebSocketResponse] = []
        self.policy_violations: list[str] = []
        self.writes_checked = 0

    def __enter__(self: F) -> F:
        self.server.start()
        return self

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                self.server.run(ws.close())
        self.server.stop()
        if exc_type is None:
            self.check_policy()

    def check_policy(self) -> None:
        if self.policy_violations:
            raise AssertionError(f"writes broke the community rule: {self.policy_violations[:5]}")

    def violation(self, what: str) -> None:
        self.policy_violations.append(what)

    @property
    def connections(self) -> int:
        return len(self._sockets)
