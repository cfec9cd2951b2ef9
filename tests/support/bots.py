"""Helpers for tests that run a bot: a knowledge base with scoped documents, settings for the fakes,
and `kbot run`'s serve loop started in the test's own event loop, on the tests' scaled clock."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Settings
from bot.run import Running, serve
from tests.fakes.openai_server import FakeOpenAI
from tests.support.clock import TEST_CLOCK

HANDBOOK = ("# Time off\n\n## Vacation\n\nEvery employee gets 25 vacation days a year. Part-time staff get "
            "vacation days in proportion to their hours.\n")
FALCON = "# Project Falcon\n\nThe Falcon launch code word is ORCHID. Only the Falcon team may use it.\n"
NO_RATE_LIMITS = {"questions_per_person_per_minute": 0, "questions_per_person_per_hour": 0,
                  "questions_per_channel_per_minute": 0}
ANSWER_TOKENS = ["Every", " employee", " gets", " 25", " vacation", " days", " a", " year", " [1]", "."]
# The fake model's pace (seconds of the scaled clock): about 1.5 s of streaming, long enough for
# intermediate edits.
TOKEN_DELAY_S = 0.15


def platform_settings(make_settings: Callable[..., Settings], llm: FakeOpenAI, **platforms: Any) -> Settings:
    """Settings for a bot on the fakes. Access is open unless a test says otherwise: these tests are
    about other promises; tests/reliability/test_access.py holds the safe default (pairing), and
    tests/reliability/test_floods.py the rate limits, which are off here unless a test sets them."""
    for section in ("slack", "discord", "telegram"):
        if section in platforms:
            platforms[section] = {"access": "open", **platforms[section]}
    platforms.setdefault("limits", NO_RATE_LIMITS)
    platforms["server"] = {"port": 0, "shutdown_grace_s": 3, **platforms.get("server", {})}
    return make_settings(
        llm={"kind": "openai", "base_url": llm.base_url, "api_key": "test-key", "model": "fake"},
        **platforms,
    )


def knowledge_bot(settings: Settings, scoped: dict[str, str]) -> App:
    """A bot (its own objects, as a process of its own would have) whose keyword-only store holds the
    handbook globally and FALCON in each given scope."""
    app = App(settings, clock=TEST_CLOCK)
    done = ("indexed", "unchanged")
    assert app.indexer.index_bytes(HANDBOOK.encode(), "markdown", "handbook.md", "global").status in done
    for scope, source in scoped.items():
        assert app.indexer.index_bytes(FALCON.encode(), "markdown", source, scope).status in done
    return app


@asynccontextmanager
async def running_bot(app: App):  # type: ignore[no-untyped-def]
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(app, on_ready=ready.set_result, install_signals=False))
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what start-up raised
    assert ready in done, "kbot did not start within 30 s"
    running = ready.result()
    try:
        yield running
    finally:
        running.stop.set()
        await asyncio.wait_for(task, 30)


async def eventually(predicate: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


_PORT_BAND = 1000  # ports per pytest-xdist worker
_next_port = itertools.count()


def free_port() -> int:
    """A free port for a server the test starts later. Not one the kernel hands out (bind to port 0):
    between this probe and the server's bind, any outgoing connection of the other test worker may
    take that ephemeral port (CI once failed with "address already in use"). So the port comes from
    below the ephemeral range, in a band of this worker's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = 20_000 + (int(worker) if worker.isdigit() else 0) % 10 * _PORT_BAND
    if start + _PORT_BAND > _ephemeral_low():
        return _kernel_port()
    for _ in range(_PORT_BAND):
        port = start + next(_next_port) % _PORT_BAND
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return _kernel_port()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default, and the IANA range starts higher still


def _kernel_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str) -> tuple[int, str]:
    """Status and body of a GET to a local server (an error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (a local test URL)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(running: Running, name: str) -> float:
    """One sample of a running bot's /metrics, by its full name and labels (0 when absent)."""
    from prometheus_client import generate_latest

    for line in generate_latest(running.metrics.registry).decode().splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def quiet_for(seconds: float) -> None:
    """Let `seconds` of the bot's time pass (the tests' scaled clock), before asserting that nothing
    more happened: no second answer to a replayed event, nothing saved by a refused command."""
    await TEST_CLOCK.sleep(seconds)
