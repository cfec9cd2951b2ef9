"""Who may use kbot: places listed in config, places an admin approved, and a pairing code for the rest.

A place is what a ThreadKey calls the workspace: a Slack workspace, a Discord server (or one
person's DMs, `dm:<user>`), a Telegram chat. Approvals live in the database, so every process
sharing it agrees at once; nothing is cached.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.state.db import AccessGrantRow, PairingRequestRow, rows_changed

Mode = Literal["open", "pairing", "allowlist"]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
REMIND_AFTER = timedelta(days=1)  # an unapproved place hears about its code at most this often
REQUESTS_KEEP = timedelta(days=30)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


@dataclass(frozen=True)
class PlatformAccess:
    """One platform's rule: `open` to anyone, `pairing` (listed or approved places; a code for the
    rest), or `allowlist` (listed or approved places; the rest are ignored)."""

    mode: Mode = "pairing"
    allowed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reply: str | None = None  # what to tell an unapproved place, when it should hear it now
    code: str | None = None


@dataclass(frozen=True)
class Place:
    platform: str
    workspace: str
    name: str
    who: str  # approved by, or requested by
    at: datetime
    code: str | None = None


@dataclass
class AccessControl:
    engine: Engine
    rules: Mapping[str, PlatformAccess] = field(default_factory=dict)
    trusted: set[tuple[str, str]] = field(default_factory=set)  # e.g. the Slack workspace the app is installed in

    def rule(self, platform: str) -> PlatformAccess:
        return self.rules.get(platform, PlatformAccess(mode="open"))  # the terminal (cli) is the operator's

    def trust(self, platform: str, workspace: str) -> None:
        """A place the platform itself vouches for (the workspace that installed the Slack app)."""
        self.trusted.add((platform, workspace))

    def is_allowed(self, platform: str, workspace: str) -> bool:
        rule = self.rule(platform)
        if rule.mode == "open" or workspace in rule.allowed or (platform, workspace) in self.trusted:
            return True
        with Session(self.engine) as session:
            return session.scalar(select(AccessGrantRow.id).where(
                AccessGrantRow.platform == platform, AccessGrantRow.workspace == workspace)) is not None

    def check(self, platform: str, workspace: str, name: str, who: str) -> Verdict:
        """Allowed, or not (with the pairing reply when this place should hear it now)."""
        if self.is_allowed(platform, workspace):
            return Verdict(True)
        if self.rule(platform).mode == "allowlist":
            return Verdict(False)
        code, remind = self._request(platform, workspace, name, who)
        if not remind:
            return Verdict(False, code=code)
        return Verdict(False, pairing_reply(code), code)

    def _request(self, platform: str, workspace: str, name: str, who: str) -> tuple[str, bool]:
        """This place's pending code (made on first contact) and whether to tell it again now."""
        now = _now()
        for _ in range(5):
            with Session(self.engine) as session, session.begin():
                row = session.scalar(select(PairingRequestRow).where(
                    PairingRequestRow.platform == platform, PairingRequestRow.workspace == workspace))
                if row is not None:
                    notified = _aware(row.notified_at)
                    remind = notified is None or now - notified >= REMIND_AFTER
                    if remind:
                        row.notified_at = now
                    return row.code, remind
            try:
                with Session(self.engine) as session, session.begin():
                    code = new_code()
                    session.add(PairingRequestRow(code=code, platform=platform, workspace=workspace,
                                                  name=name[:255], requested_by=who[:128], notified_at=now))
                return code, True
            except IntegrityError:  # another process asked first, or (rarely) the code is taken: look again
                continue
        raise RuntimeError("could not record the pairing request")

    def approve(self, code: str, by: str) -> Place | None:
        """Approve the place that was given `code`; None when no such request exists."""
        wanted = code.strip().upper().replace(" ", "")
        if len(wanted) == 8 and "-" not in wanted:
            wanted = f"{wanted[:4]}-{wanted[4:]}"
        with Session(self.engine) as session, session.begin():
            request = session.scalar(select(PairingRequestRow).where(PairingRequestRow.code == wanted))
            if request is None:
                return None
            place = Place(request.platform, request.workspace, request.name, by, _now(), request.code)
            self._grant(session, place)
            session.delete(request)
        return place

    def grant(self, platform: str, workspace: str, by: str, name: str = "") -> None:
        """Approve a place directly (`kbot approve telegram:-100123`)."""
        with Session(self.engine) as session, session.begin():
            self._grant(session, Place(platform, workspace, name, by, _now()))
            session.execute(delete(PairingRequestRow).where(PairingRequestRow.platform == platform,
                                                            PairingRequestRow.workspace == workspace))

    @staticmethod
    def _grant(session: Session, place: Place) -> None:
        exists = session.scalar(select(AccessGrantRow.id).where(
            AccessGrantRow.platform == place.platform, AccessGrantRow.workspace == place.workspace))
        if exists is None:
            try:
                with session.begin_nested():
                    session.add(AccessGrantRow(platform=place.platform, workspace=place.workspace,
                                               name=place.name[:255], approved_by=place.who[:128]))
            except IntegrityError:  # approved by someone else a moment ago
                pass

    def revoke(self, platform: str, workspace: str) -> bool:
        with Session(self.engine) as session, session.begin():
            removed = rows_changed(session.execute(delete(AccessGrantRow).where(
                AccessGrantRow.platform == platform, AccessGrantRow.workspace == workspace)))
        return bool(removed)

    def approved(self) -> list[Place]:
        with Session(self.engine) as session:
            rows = session.scalars(select(AccessGrantRow).order_by(AccessGrantRow.platform, AccessGrantRow.id)).all()
            return [Place(r.platform, r.workspace, r.name, r.approved_by, _aware(r.approved_at) or _now())
                    for r in rows]

    def pending(self) -> list[Place]:
        with Session(self.engine) as session:
            rows = session.scalars(select(PairingRequestRow).order_by(PairingRequestRow.id)).all()
            return [Place(r.platform, r.workspace, r.name, r.requested_by, _aware(r.created_at) or _now(), r.code)
                    for r in rows]

    def forget_stale_requests(self) -> int:
        """Codes nobody approved within a month are dropped (housekeeping); asking again makes a new one."""
        with Session(self.engine) as session, session.begin():
            result = session.execute(delete(PairingRequestRow).where(
                PairingRequestRow.created_at < _now() - REQUESTS_KEEP))
        return rows_changed(result)

    def describe(self, platform: str) -> str:
        """What is open to whom, for the start-up log."""
        rule = self.rule(platform)
        if rule.mode == "open":
            return f"{platform}: open to anyone who can reach the bot"
        listed = sorted(rule.allowed | {w for p, w in self.trusted if p == platform})
        with Session(self.engine) as session:
            approved = len(session.scalars(select(AccessGrantRow.id).where(AccessGrantRow.platform == platform)).all())
        places = f"{', '.join(listed) or 'no place'} (config) and {approved} approved place(s)"
        rest = "other places get a pairing code" if rule.mode == "pairing" else "other places are ignored"
        return f"{platform}: answers in {places}; {rest}"


def pairing_reply(code: str) -> str:
    return (f"kbot isn't enabled here yet. Ask one of its admins to approve this place with "
            f"`kbot approve {code}` (or `/kb approve {code}` where kbot already works).")
