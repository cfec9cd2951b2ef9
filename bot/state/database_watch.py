"""The database as a running bot sees it: up, or away since when and why.

When PostgreSQL stops, or SQLite is locked, read-only or out of disk, every part that touches the
database fails at once: the delivery claim, the gate, memory, job dispatch. Without a watch each
failure is its own traceback (about 160 a minute from job dispatch alone) and the person who asked
hears nothing. With it the first failure is one warning line (the reason, the password masked),
parts that poll the database stop polling, one probe with a growing pause checks for the way back,
and its return is one line too, with what the waiting parts report (the questions answered or
dropped meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.core.clock import SYSTEM_CLOCK, Clock
from bot.state.engine import check_writable, where
from bot.state.errors import DatabaseUnavailable

log = logging.getLogger("kbot.database")

FIRST_PROBE_S = 1.0
MAX_PROBE_S = 30.0

Recovery = Callable[[float], Awaitable[str]]  # given the outage's seconds; returns what it did, for the log


# SQLite's words for a database it cannot use now (as opposed to a query it cannot run).
_SQLITE_AWAY = ("locked", "readonly", "read-only", "disk", "unable to open", "i/o error", "busy")
# PostgreSQL's SQLSTATE classes and codes for the same: connection exceptions, operator intervention
# (a shutdown, a restart), insufficient resources (disk full, out of memory, too many connections),
# a read-only transaction (a standby, default_transaction_read_only).
_SQLSTATE_AWAY = ("08", "57P", "53", "25006")


def is_outage(exc: BaseException) -> bool:
    """The database cannot be reached or written now (a stopped server, a lock, a read-only file or
    server, a full disk), as opposed to a bug in a query, which must not be held and retried."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if sqlstate:
        return sqlstate.startswith(_SQLSTATE_AWAY)
    if isinstance(exc, OperationalError | InterfaceError):
        message = str(exc.orig or exc).lower()
        return "sqlite" not in type(exc.orig).__module__ or any(word in message for word in _SQLITE_AWAY)
    return False


class DatabaseWatch:
    def __init__(self, engine: Engine, clock: Clock = SYSTEM_CLOCK, *, first_probe_s: float = FIRST_PROBE_S,
                 max_probe_s: float = MAX_PROBE_S) -> None:
        self.engine = engine
        self.clock = clock
        self.first_probe_s = first_probe_s
        self.max_probe_s = max_probe_s
        self.down_since: float | None = None
        self.reason = ""
        self._probe: asyncio.Task[None] | None = None
        self._recoveries: list[Recovery] = []

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def on_recovery(self, recovery: Recovery) -> None:
        """Run `recovery` when the database is back (a part that held work while it was away)."""
        self._recoveries.append(recovery)

    def failed(self, exc: BaseException) -> bool:
        """Note a failure: True (and the database is marked away, once) when it was an outage; False
        for anything else, which the caller handles as before. Call it on the event loop."""
        if not is_outage(exc):
            return False
        if self.down_since is None:
            self.down_since = self.clock.monotonic()
            self.reason = self._describe(exc)
            log.warning("the database at %s is unreachable (%s); questions are held and jobs wait until it "
                        "is back", where(self.engine), self.reason)
            self._probe = asyncio.get_running_loop().create_task(self._until_back())
        return True

    def _describe(self, exc: BaseException) -> str:
        cause = getattr(exc, "orig", None) or exc
        text = " ".join(str(cause).split())[:200] or cause.__class__.__name__
        password = self.engine.url.password
        return text.replace(str(password), "***") if password else text

    async def _until_back(self) -> None:
        pause = self.first_probe_s
        while True:
            await self.clock.sleep(pause)
            try:
                await asyncio.to_thread(check_writable, self.engine)
                break
            except Exception as exc:  # still away (or failing otherwise): wait longer, say nothing more
                if not is_outage(exc):
                    log.debug("database probe failed", exc_info=True)
                pause = min(pause * 2, self.max_probe_s)
        assert self.down_since is not None
        away = self.clock.monotonic() - self.down_since
        self.down_since, self._probe = None, None
        done = []
        for recovery in self._recoveries:
            try:
                done.append(await recovery(away))
            except Exception:
                log.exception("recovering after the database came back failed")
        log.info("the database at %s is back after %.0f s%s", where(self.engine), away,
                 "".join(f"; {what}" for what in done if what))

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
