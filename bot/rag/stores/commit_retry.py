"""LanceDB commits optimistically: when two processes (say, two `kbot run --role worker` on one
machine) commit to one table at once, the loser gets a "retryable commit conflict" and nothing of
its change is written. Trying again on the new version is what Lance asks for."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger("kbot.store")
T = TypeVar("T")
ATTEMPTS = 8


def is_commit_conflict(exc: BaseException) -> bool:
    """A lost race: "retryable commit conflict", or an append that met the other writer creating the
    (empty) table at the same moment ("incompatible with concurrent transaction Overwrite")."""
    message = str(exc).lower()
    return ("commit conflict" in message and "retry" in message) or (
        "incompatible transaction" in message and "concurrent transaction overwrite" in message)


def retry_conflicts(step: Callable[[], T], what: str) -> T:
    """`step()`, again after a short random pause each time another writer's commit won the race."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return step()
        except (RuntimeError, OSError, ValueError) as exc:
            if attempt == ATTEMPTS or not is_commit_conflict(exc):
                raise
            log.debug("%s: another process committed first (attempt %d); trying again", what, attempt)
            time.sleep(random.uniform(0.02, 0.05) * 2 ** min(attempt, 5))
    raise AssertionError("unreachable")
