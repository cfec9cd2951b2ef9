"""LanceDB commits optimistically: when two processes (say, two `kbot run --role worker` on one
machine) commit to one table at once, the loser gets a "retryable commit conflict" and nothing of
its change is written. Trying again on the new version is what Lance asks for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from bot.core.retry import Backoff, retry

log = logging.getLogger("kbot.store")
T = TypeVar("T")
# Eight tries, 0.04-0.1 s after the first loss, doubling to at most about 2 s: short, random waits
# so that two writers do not collide again in step.
COMMIT_CONFLICTS = Backoff(attempts=8, first_s=0.07, cap_s=2.2, jitter=0.43)


def is_commit_conflict(exc: BaseException) -> bool:
    """A lost race: "retryable commit conflict", or an append that met the other writer creating the
    (empty) table at the same moment ("incompatible with concurrent transaction Overwrite")."""
    message = str(exc).lower()
    return ("commit conflict" in message and "retry" in message) or (
        "incompatible transaction" in message and "concurrent transaction overwrite" in message)


def retry_conflicts(step: Callable[[], T], what: str) -> T:
    """`step()`, again after a short random pause each time another writer's commit won the race."""
    def lost_race(exc: Exception) -> bool:
        return isinstance(exc, (RuntimeError, OSError, ValueError)) and is_commit_conflict(exc)

    def note(attempt: int, _exc: Exception) -> None:
        log.debug("%s: another process committed first (attempt %d); trying again", what, attempt)

    return retry(step, COMMIT_CONFLICTS, lost_race, on_retry=note)
