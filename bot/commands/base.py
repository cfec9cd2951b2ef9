"""What every chat command gets and gives back; no platform SDK is imported here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from bot.access import AccessControl
from bot.analytics import GapLog
from bot.channel_scopes import ChannelScopes
from bot.jobs import JobQueue, ProgressTarget
from bot.memory import ThreadMemory
from bot.messages import Incoming
from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.parsing.addresses import AddressPolicy
from bot.rates import Limit, RateLimiter
from bot.removal import DocumentRemover
from bot.saved_threads import ThreadCapture
from bot.scopes import GLOBAL
from bot.shown import safe_name


@dataclass(frozen=True)
class Upload:
    """A file attached to the command; `fetch` downloads it only once it has passed the checks. Its
    name is made safe as it comes in (bot/shown.py): every message and list shows that name."""

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


@dataclass
class CommandEnv:
    knowledge_base: KnowledgeBase
    jobs: JobQueue
    rates: RateLimiter  # uploads per person, counted in the database (every process agrees)
    access: AccessControl  # `/kb approve` lets a new place in
    remover: DocumentRemover  # `/kb delete`: chunks, jobs, uploads and the turns that quoted it
    channel_scopes: ChannelScopes | None = None  # admins' `/kb scope` choices; None: every channel uses all
    url_policy: AddressPolicy = field(default_factory=AddressPolicy)  # which hosts `/kb add` may fetch
    uploads_per_hour: int = 30  # per person
    default_preset: str = "balanced"  # `retrieval.preset`: what `/kb preset` falls back to
    gaps: GapLog | None = None  # coverage-gap analytics (`/kb gaps`, `/kb stats`); None: not kept here
    memory: ThreadMemory | None = None  # `/kb save` where the platform lets bots read no thread history
    default_visibility: str = "public"  # `answer.visibility`: what `/kb visibility` falls back to

    def upload_allowed(self, incoming: Incoming) -> bool:
        """One more document from this person this hour? (Counted when it is.) Blocking: database."""
        key = incoming.key
        limit = Limit("uploads", f"upload:{key.platform}:{key.workspace}:{incoming.author}", self.uploads_per_hour,
                      3600)
        return self.rates.admit([limit]) is None


def describe_choice(lead: str, meaning: str, name: str, configured: str, chosen: bool) -> str:
    """A channel setting as people read it: `{lead} (chosen for this channel): {meaning}.`"""
    origin = "chosen for this channel" if chosen else "the configured default"
    line = f"{lead} ({origin}): {meaning}."
    if chosen and name != configured:
        line += f" The configured default is {configured}."
    return line


REFUSED_ADMIN = "Only admins can do that here. Ask a workspace or chat admin."
TOO_MANY_UPLOADS = "You have added {n} documents in the last hour; please wait a while."
