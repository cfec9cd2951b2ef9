"""Indexing jobs as every room sees them: where a job's progress is shown, a snapshot of the job, and
who listens to its steps. (The SQL queue that keeps them is bot/jobs/queue.py.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_UNITS = {"reading": "pages", "embedding": "chunks", "writing": "chunks"}


@dataclass(frozen=True)
class ProgressTarget:
    """Where a job's progress message is, in the ids of the platform that posted it."""

    platform: str
    workspace: str  # Slack team, Discord server (or `dm:<user>`), Telegram chat
    channel: str  # Slack channel, Discord channel, Telegram chat
    message: str  # Slack ts, Discord message id, Telegram message id
    thread: str | None = None  # Slack thread_ts, Telegram forum topic

    def to_json(self) -> dict[str, str | None]:
        return {"platform": self.platform, "workspace": self.workspace, "channel": self.channel,
                "message": self.message, "thread": self.thread}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ProgressTarget | None:
        """The stored target, or None (nobody watches, or a row kbot 0.1 wrote in its own shapes: the
        job still runs, only its old progress message is not edited)."""
        if not data or not data.get("platform") or data.get("channel") is None or data.get("message") is None:
            return None
        thread = data.get("thread")
        return cls(str(data["platform"]), str(data.get("workspace") or ""), str(data["channel"]),
                   str(data["message"]), None if thread is None else str(thread))


@dataclass(frozen=True)
class JobView:
    """A snapshot of one job, for progress messages and `/kb status`."""

    id: int
    source: str
    scope: str
    state: str
    stage: str
    done: int
    total: int
    chunks: int
    pages: int
    attempts: int
    error: str | None
    target: ProgressTarget | None  # None: nobody watches it (a terminal session, a re-sync)
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    warnings: str | None = None  # what a done job could not read (e.g. pages OCR found no text on)
    reused: int = 0  # chunks that kept the vectors of the document's previous version

    @property
    def ended(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def name(self) -> str:
        return self.source.rsplit("/", 1)[-1] if not self.source.startswith("http") else self.source

    def describe(self) -> str:
        """One line, e.g. `handbook.pdf — reading 40/120 pages` or `✓ handbook.pdf indexed: 318 chunks in 12 s`."""
        if self.state == "done":
            took = (self.finished_at - self.started_at).total_seconds() if self.finished_at and self.started_at else 0
            notes = f" — {self.warnings}" if self.warnings else ""
            kept = f" ({self.reused} unchanged since the last version)" if self.reused else ""
            return f"✓ {self.name} indexed: {self.chunks} chunks{kept} in {took:.0f} s{notes}"
        if self.state == "failed":
            return f"✗ {self.name} was not indexed: {self.error}"
        if self.state == "queued":
            return f"{self.name} — queued"
        if self.stage == "ocr":
            return f"{self.name} — reading page {self.done}/{self.total} (OCR)"
        unit = _UNITS.get(self.stage, "")
        counts = f" {self.done}/{self.total} {unit}".rstrip() if self.total else ""
        return f"{self.name} — {self.stage}{counts}"


JobListener = Callable[[JobView], Awaitable[None]]
