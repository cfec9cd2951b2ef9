"""`kbot run`: every enabled adapter in one asyncio process, with health, metrics and a clean shutdown."""

# Imports inside functions: haystack.tools is preloaded once before serving (see preload_lazy_imports).

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.app import App
from bot.chat.service import QuestionService
from bot.core.jobs import JobView
from bot.core.messages import Adapter
from bot.insights.digest import Digest, DigestTarget
from bot.jobs.housekeeping import Housekeeping
from bot.jobs.runner import JobRunner
from bot.ops.health import Check, OpsServer
from bot.ops.metrics import Metrics
from bot.state.engine import check_writable
from bot.state.files import readable_by_others

if TYPE_CHECKING:
    from bot.rag.knowledge_base import KnowledgeBase

log = logging.getLogger("kbot.run")

IO_THREADS = 8
Role = Literal["all", "chat", "worker"]


@dataclass
class Running:
    """What a started bot exposes to whoever started it (the CLI, or a test)."""

    service: QuestionService
    adapters: list[Adapter]
    ops: OpsServer
    metrics: Metrics
    jobs: JobRunner
    housekeeping: Housekeeping
    digest: Digest | None = None  # `analytics.digest`; None when off
    stop: asyncio.Event = field(default_factory=asyncio.Event)


def readiness_checks(app: App, adapters: list[Adapter]) -> dict[str, Check]:
    """/readyz: the store answers, the database takes a write, and each platform is connected."""

    async def store_ok() -> bool:
        return await asyncio.to_thread(app.knowledge_base.count_chunks) >= 0

    async def database_ok() -> bool:  # a write that changes nothing: a read-only database is not ready
        await asyncio.to_thread(check_writable, app.engine)
        return True

    checks: dict[str, Check] = {"store": store_ok, "database": database_ok}
    checks.update({adapter.name: adapter.ready for adapter in adapters})
    return checks


def warm_up_in_background(knowledge_base: KnowledgeBase) -> threading.Thread:
    """The store's copy in memory, its keyword index and the query embedder, loaded beside the start-up
    so the first questions do not pay for them; a question that comes first loads what it needs."""

    def warm() -> None:
        started = time.monotonic()
        try:
            knowledge_base.warm_up()
        except Exception as exc:  # not fatal: the first question loads the same things, and says what fails
            log.warning("warming up the knowledge base failed (%s); the first question loads it instead",
                        exc.__class__.__name__)
            return
        log.info("knowledge base warmed up in %.1f s", time.monotonic() - started)

    thread = threading.Thread(target=warm, name="kbot-warm-up", daemon=True)
    thread.start()
    return thread


async def serve(app: App, *, on_ready: Callable[[Running], None] | None = None, install_signals: bool = True,
                role: Role = "all") -> int:
    """Run until SIGTERM/SIGINT (or `Running.stop` is set); returns the exit code.

    `role`: `chat` answers on the platforms and queues uploads, `worker` only runs indexing jobs and
    re-syncs (it connects to no platform and needs no platform token), `all` does both."""
    settings = app.settings
    chat = role in ("chat", "all")
    if chat:
        settings.require_a_platform()
    adapters = app.adapters() if chat else []  # every platform's secrets read (or refused) first
    if readable_by_others(settings.data_path):
        log.warning("data_dir %s can be read by other users of this machine (it holds the questions people asked "
                    "and their uploads): chmod 700 %s", settings.data_path, settings.data_path)
    by_name = {adapter.name: adapter for adapter in adapters}

    async def show_job(view: JobView) -> None:
        adapter = by_name.get(view.target.platform) if view.target is not None else None
        if adapter is not None:
            await adapter.show_job(view)

    async def post_digest(target: DigestTarget, text: str, chart: bytes) -> None:
        adapter = by_name.get(target.platform)
        if adapter is None:
            raise LookupError(f"{target.platform} is not enabled")
        await adapter.post_report(target.channel, text, chart)

    jobs = app.job_runner(show_job, claims=role in ("worker", "all"), platforms=frozenset(by_name))
    digest = app.digest(post_digest) if chat else None
    ops = OpsServer(settings.server.host, settings.server.port, app.metrics, readiness_checks(app, adapters))
    running = Running(app.service, adapters, ops, app.metrics, jobs, app.housekeeping, digest)
    loop = asyncio.get_running_loop()
    if install_signals:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, running.stop.set)
    # Answers wait on the database and the store in worker threads. More threads than this only
    # fight the event loop for the GIL (bench/platforms.py: 4, 8 and 16 answered alike).
    loop.set_default_executor(ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="kbot-io"))
    if chat and app.llm is not None:
        await app.llm.warm_up()
    if chat:
        warm_up_in_background(app.knowledge_base)
    await ops.start()
    lag_watch: asyncio.Task[None] | None = None
    started: list[Adapter] = []
    try:
        for adapter in adapters:
            started.append(adapter)  # closed below even when its start fails half-way
            await adapter.start()
        await jobs.start()  # after the adapters: a job resumed from a crash reports to its chat
        app.housekeeping.start()
        if digest is not None:
            digest.start()
            log.info("digest: %s to %s", app.settings.analytics.digest, ", ".join(map(str, digest.targets)) or "nobody")
        log.info("kbot is running (role %s) on %s", role, ", ".join(a.name for a in adapters) or "no platform")
        for adapter in adapters:
            log.info("access: %s", app.access.describe(adapter.name))
        preload_lazy_imports()
        log.info("start-up heap frozen: %d objects out of the collector's way", freeze_startup_heap())
        lag_watch = asyncio.create_task(watch_loop_lag(app.metrics))  # from here on, lag is what askers feel
        if on_ready is not None:
            on_ready(running)
        await running.stop.wait()
        log.info("stopping: no new questions; %d answer(s) in flight get %.0fs", app.service.in_flight,
                 settings.server.shutdown_grace_s)
    finally:
        for adapter in started:
            await _quietly(adapter.stop_receiving(), f"{adapter.name}: stop receiving")
        await app.service.shutdown(settings.server.shutdown_grace_s)
        await jobs.stop(settings.server.shutdown_grace_s)  # an unfinished job resumes at the next start
        app.housekeeping.stop()
        if digest is not None:
            digest.stop()
        for adapter in started:
            await _quietly(adapter.close(), f"{adapter.name}: close")
        if lag_watch is not None:
            lag_watch.cancel()
        await app.aclose()
        await ops.stop()
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    return 0


def preload_lazy_imports() -> None:
    """Haystack's Pipeline.run imports haystack.tools (jsonschema and a dozen more) on its first call;
    on the event loop that stalled every chat for 70 ms to 1 s at the first question. Imported here,
    before serving (and not at module level: `kbot search` and `kbot ask` need not pay for it)."""
    import haystack.tools  # noqa: F401


def freeze_startup_heap() -> int:
    """Imports and start-up leave about a million long-lived objects; a full collection walking them
    stalled the loop for 50-160 ms (bench/platforms.py). Frozen, later collections walk only what
    serving allocates. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def watch_loop_lag(metrics: Metrics, interval_s: float = 0.05) -> None:
    """Blocking work on the event loop delays every chat at once; this makes it visible in /metrics."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(interval_s)
        metrics.loop_lag.observe(max(time.perf_counter() - started - interval_s, 0.0))


async def _quietly(call: Awaitable[object], what: str) -> None:
    try:
        await asyncio.wait_for(call, 15)
    except Exception:
        log.warning("%s failed", what, exc_info=True)
