"""`kbot run`: every enabled adapter in one asyncio process, with health, metrics and a clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from bot.app import build_access, build_indexer, url_policy
from bot.channel_scopes import ChannelScopes
from bot.commands.base import CommandEnv
from bot.config import ConfigError, Settings, require_secret
from bot.conversation import Conversation
from bot.db import check_writable
from bot.deliveries import DeliveryLog
from bot.feedback import FeedbackLog
from bot.gate import Gate
from bot.housekeeping import Housekeeping
from bot.jobs import JobQueue, JobRunner, JobView
from bot.metrics import Metrics
from bot.ops import Check, OpsServer
from bot.rates import RateLimiter
from bot.removal import DocumentRemover
from bot.resync import Resync
from bot.service import Channel, QuestionService

log = logging.getLogger("kbot.run")

IO_THREADS = 8


def enabled_platforms(settings: Settings) -> list[str]:
    return [name for name in ("slack", "discord", "telegram") if getattr(settings, name).enabled]


def check_secrets(settings: Settings) -> None:
    """Every token an enabled platform needs, checked before anything slow starts."""
    if settings.slack.enabled:
        require_secret(settings, "slack.bot_token", "slack is enabled")
        if settings.slack.mode == "socket":
            require_secret(settings, "slack.app_token", "slack.mode is socket")
        else:
            require_secret(settings, "slack.signing_secret", "slack.mode is http")
    if settings.discord.enabled:
        require_secret(settings, "discord.token", "discord is enabled")
    if settings.telegram.enabled:
        require_secret(settings, "telegram.token", "telegram is enabled")


def build_channels(settings: Settings, service: QuestionService) -> list[Channel]:
    channels: list[Channel] = []
    if settings.slack.enabled:
        from bot.adapters.slack import SlackAdapter

        channels.append(SlackAdapter(settings.slack, require_secret(settings, "slack.bot_token", "slack is enabled"),
                                     service, settings.slack.app_token, settings.slack.signing_secret,
                                     max_file_bytes=int(settings.knowledge.max_file_mb * 1_000_000),
                                     public_uploads=settings.jobs.public_uploads))
    if settings.discord.enabled:
        from bot.adapters.discord import DiscordAdapter

        channels.append(DiscordAdapter(settings.discord, require_secret(settings, "discord.token", ""), service,
                                       max_file_bytes=int(settings.knowledge.max_file_mb * 1_000_000),
                                       public_uploads=settings.jobs.public_uploads))
    if settings.telegram.enabled:
        from bot.adapters.telegram import TelegramAdapter

        channels.append(TelegramAdapter(settings.telegram, require_secret(settings, "telegram.token", ""), service,
                                        max_file_bytes=int(settings.knowledge.max_file_mb * 1_000_000)))
    return channels


@dataclass
class Running:
    """What a started bot exposes to whoever started it (the CLI, or a test)."""

    service: QuestionService
    channels: list[Channel]
    ops: OpsServer
    metrics: Metrics
    jobs: JobRunner
    housekeeping: Housekeeping
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def serve(
    settings: Settings, conversation: Conversation, *, on_ready: Callable[[Running], None] | None = None,
    install_signals: bool = True,
) -> int:
    """Run until SIGTERM/SIGINT (or `Running.stop` is set); returns the exit code."""
    check_secrets(settings)
    if not enabled_platforms(settings):
        raise ConfigError("no platform is enabled: set slack.enabled, discord.enabled or telegram.enabled to true")
    engine = conversation.memory.engine
    kb = conversation.knowledge_base
    metrics = Metrics()
    channel_scopes = ChannelScopes(engine)
    rates = RateLimiter(engine)
    access = build_access(settings, engine)
    deliveries = DeliveryLog(engine)
    queue = JobQueue(engine, build_indexer(settings, kb, for_chat=True), settings.data_path / "uploads",
                     stale_after_s=settings.jobs.stale_after_s)
    commands = CommandEnv(kb, queue, rates, access, DocumentRemover(kb, conversation.memory, queue),
                          channel_scopes=channel_scopes, url_policy=url_policy(settings),
                          uploads_per_hour=settings.jobs.uploads_per_hour)
    service = QuestionService(conversation, deliveries, FeedbackLog(engine), metrics,
                              Gate(access, rates, settings.limits, channel_scopes), commands,
                              log_message_text=settings.server.log_message_text)
    channels = build_channels(settings, service)
    housekeeping = Housekeeping({
        "delivery records": lambda: deliveries.forget_older_than(timedelta(hours=settings.server.dedup_window_hours)),
        "rate counters": lambda: rates.forget_older_than(2 * 3600),
        "stale pairing requests": access.forget_stale_requests,
    })

    async def store_ok() -> bool:
        return await asyncio.to_thread(kb.count_chunks) >= 0

    async def database_ok() -> bool:  # a write that changes nothing: a read-only database is not ready
        await asyncio.to_thread(check_writable, engine)
        return True

    checks: dict[str, Check] = {"store": store_ok, "database": database_ok}
    for channel in channels:
        checks[channel.name] = channel.ready
    ops = OpsServer(settings.server.host, settings.server.port, metrics, checks)
    by_name = {channel.name: channel for channel in channels}

    async def show_job(view: JobView) -> None:
        channel = by_name.get(str(view.target.get("platform")))
        if channel is not None and hasattr(channel, "show_job"):
            await channel.show_job(view)

    resync = Resync(queue.indexer, queue, settings.knowledge_paths, settings.root)
    jobs = JobRunner(queue, show_job, concurrency=settings.jobs.concurrency,
                     keep_ended=timedelta(days=settings.jobs.keep_days), resync=resync,
                     resync_s=settings.jobs.resync_minutes * 60)
    running = Running(service, channels, ops, metrics, jobs, housekeeping)
    loop = asyncio.get_running_loop()
    if install_signals:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, running.stop.set)
    # Answers wait on the database and the store in worker threads. More threads than this only
    # fight the event loop for the GIL (bench/platforms.py: 4, 8 and 16 answered alike).
    loop.set_default_executor(ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="kbot-io"))
    if conversation.llm is not None:
        await conversation.llm.warm_up()
    await ops.start()
    lag_watch: asyncio.Task[None] | None = None
    started: list[Channel] = []
    try:
        for channel in channels:
            started.append(channel)  # closed below even when its start fails half-way
            await channel.start()
        await jobs.start()  # after the channels: a job resumed from a crash reports to its chat
        housekeeping.start()
        log.info("kbot is running on %s", ", ".join(c.name for c in channels))
        for channel in channels:
            log.info("access: %s", access.describe(channel.name))
        lag_watch = asyncio.create_task(watch_loop_lag(metrics))  # from here on, lag is what askers feel
        if on_ready is not None:
            on_ready(running)
        await running.stop.wait()
        log.info("stopping: no new questions; %d answer(s) in flight get %.0fs", service.in_flight,
                 settings.server.shutdown_grace_s)
    finally:
        for channel in started:
            await _quietly(channel.stop_receiving(), f"{channel.name}: stop receiving")
        await service.shutdown(settings.server.shutdown_grace_s)
        await jobs.stop(settings.server.shutdown_grace_s)  # an unfinished job resumes at the next start
        housekeeping.stop()
        for channel in started:
            await _quietly(channel.close(), f"{channel.name}: close")
        if lag_watch is not None:
            lag_watch.cancel()
        await conversation.aclose()
        await ops.stop()
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    return 0


async def watch_loop_lag(metrics: Metrics, interval_s: float = 0.05) -> None:
    """Blocking work on the event loop delays every chat at once; this makes it visible in /metrics."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(interval_s)
        metrics.loop_lag.observe(max(time.perf_counter() - started - interval_s, 0.0))


async def _quietly(call: object, what: str) -> None:
    try:
        await asyncio.wait_for(call, 15)  # type: ignore[arg-type]
    except Exception:
        log.warning("%s failed", what, exc_info=True)
