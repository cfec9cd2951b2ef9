"""What adapters and the core say to each other about commands, places and admissions: the request a
`/kb` command runs on and its reply, a thread to save, where a button was clicked, what the gate
decided. Plain values, so that adapters, commands and the chat flow share them without importing
one another."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import PurePath

from bot.core.jobs import ProgressTarget
from bot.core.messages import Incoming, ThreadKey
from bot.core.scopes import GLOBAL
from bot.core.shown import safe_name


@dataclass(frozen=True)
class ThreadMessage:
    author: str  # as shown in the document: a display name or "kbot"
    text: str
    by_kbot: bool = False


@dataclass(frozen=True)
class ThreadCapture:
    """What an adapter knows of the thread a `/kb save` ran in: where it is, its link, and how to read
    it from the platform (None where the platform lets bots read no history: kbot's memory is used)."""

    key: ThreadKey
    source: str  # the permalink, or a stable name where the platform has none
    read: Callable[[], Awaitable[list[ThreadMessage]]] | None = None


@dataclass(frozen=True)
class Upload:
    """A file attached to the command; `fetch` downloads it only once it has passed the checks. Its
    name is made safe as it comes in (bot/core/shown.py): every message and list shows that name."""

    filename: str
    size: int
    fetch: Callable[[], Awaitable[bytes]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "filename", safe_name(PurePath(safe_name(self.filename)).name))


@dataclass(frozen=True)
class CommandRequest:
    incoming: Incoming  # who, where, the scopes visible here, whether they are an admin
    args: str
    upload_scope: str  # where a document uploaded here lands, decided by the adapter from the event
    upload: Upload | None = None
    max_upload_bytes: int = 20_000_000  # the platform's download cap, or the configured limit if lower
    everywhere: bool = False  # the operator's terminal: analytics cover every place, not only this one
    thread: ThreadCapture | None = None  # the thread the command ran in (`/kb save`); None: not in one

    @property
    def own_scopes(self) -> set[str]:
        """The scopes of this place, without the shared global knowledge."""
        return set(self.incoming.scopes) - {GLOBAL}


@dataclass
class Reply:
    text: str
    private: bool = False  # shown only to the person who ran the command (ephemeral)


# Posts the visible message a job's progress will edit; returns where it is.
PostProgress = Callable[[str], Awaitable[ProgressTarget]]


@dataclass(frozen=True)
class Place:
    """Where a button was clicked: an explanation is only given where its answer was."""

    platform: str
    workspace: str
    channel: str


@dataclass(frozen=True)
class Admission:
    incoming: Incoming | None  # the message to answer, its scopes narrowed; None when refused
    reason: str | None = None  # why it was refused: not_approved | too_long | rate_person | rate_channel
    reply: str | None = None  # what to tell the person now (None: stay quiet, they were told already)
