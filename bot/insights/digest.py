"""The coverage digest: every day or week, the top gaps and the week's figures (questions, answered
share, 👍/👎, new documents) with a chart, posted to the configured channels or the admins' DMs.
One process posts each digest: the period's key is claimed in the database first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.insights.charts import activity_chart
from bot.insights.gaps import Area, GapLog
from bot.insights.reports import stats_report
from bot.state.deliveries import DeliveryLog

if TYPE_CHECKING:
    from bot.rag.knowledge_base import KnowledgeBase

log = logging.getLogger("kbot.digest")

WEEK = 7


@dataclass(frozen=True)
class DigestTarget:
    """Where a digest goes (`channel`, or `@user` for a DM) and whose figures it shows (`area`)."""

    platform: str
    channel: str
    area: Area

    @classmethod
    def parse(cls, text: str) -> DigestTarget:
        """`slack:T0123:C0456`, `discord:GUILD:CHANNEL`, `telegram:-100123` (a chat is its own workspace)."""
        platform, _, rest = text.partition(":")
        workspace, _, channel = rest.partition(":")
        if not platform or not workspace:
            raise ValueError(f"{text!r} is not PLATFORM:WORKSPACE[:CHANNEL]")
        # Private places' questions stay out of a digest posted elsewhere.
        return cls(platform, channel or workspace, Area(platform, workspace, shown_in=channel or workspace))

    def __str__(self) -> str:
        return f"{self.platform}:{self.channel}"


Post = Callable[[DigestTarget, str, bytes], Awaitable[None]]


def period_key(every: str, now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}" if every == "weekly" else f"{now:%Y-%m-%d}"


class Digest:
    def __init__(self, gaps: GapLog, knowledge_base: KnowledgeBase, deliveries: DeliveryLog,
                 targets: list[DigestTarget], post: Post, every: str = "weekly", hour_utc: int = 9) -> None:
        self.gaps = gaps
        self.knowledge_base = knowledge_base
        self.deliveries = deliveries
        self.targets = targets
        self.post = post
        self.every = every
        self.hour_utc = hour_utc
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def compose(self, target: DigestTarget) -> tuple[str, bytes]:
        """The digest's text and chart for one target. Blocking: database, store, embedder."""
        report = stats_report(self.gaps, self.knowledge_base, target.area, WEEK, None)
        chart = activity_chart(self.gaps.daily(target.area, WEEK),
                               f"kbot: the last {WEEK} days in {target.area.describe()}")
        return f"kbot {self.every} digest\n{report.text()}", chart

    async def run_once(self, now: datetime | None = None) -> int:
        """Post this period's digest to every target not yet served (by any process); how many were."""
        key = period_key(self.every, now or datetime.now(UTC))
        posted = 0
        for target in self.targets:
            if not await asyncio.to_thread(self.deliveries.claim, "digest", f"{target}:{key}"):
                continue
            try:
                text, chart = await asyncio.to_thread(self.compose, target)
                await self.post(target, text, chart)
                posted += 1
            except Exception:  # one unreachable channel must not stop the others
                log.warning("digest: could not post to %s", target, exc_info=True)
        return posted

    def start(self) -> None:
        trigger: dict[str, int | str] = {"hour": self.hour_utc, "minute": 0}
        if self.every == "weekly":
            trigger["day_of_week"] = "mon"
        self._scheduler.add_job(self.run_once, "cron", max_instances=1, coalesce=True, **trigger)
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
