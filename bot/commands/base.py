"""What every chat command gets and gives back; no platform SDK is imported here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.channel_scopes import ChannelScopes
from bot.jobs import JobQueue
from bot.messages import Incoming
from bot.rag.knowledge_base import KnowledgeBase
from bot.scopes import GLOBAL


@dataclass(frozen=True)
class Upload:
    """A file attached to the command; `fetch` downloads it only once it has passed the checks."""

    filename: str
    size: int
    fetch: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class CommandRequest:
    incoming: Incoming  # who, where, the scopes visible here, whether they are an admin
    args: str
    upload_scope: str  # where a document uploaded here lands, decided by the adapter from the event
    upload: Upload | None = None
    max_upload_bytes: int = 20_000_000  # the platform's download cap, or the configured limit if lower

    @property
    def own_scopes(self) -> set[str]:
        """The scopes of this place, without the shared global knowledge."""
        return set(self.incoming.scopes) - {GLOBAL}


@dataclass
class Reply:
    text: str
    private: bool = False  # shown only to the person who ran the command (ephemeral)


# Posts the visible message a job's progress will edit; returns where it is (adapter-defined).
PostProgress = Callable[[str], Awaitable[dict]]


@dataclass
class CommandEnv:
    knowledge_base: KnowledgeBase
    jobs: JobQueue
    channel_scopes: ChannelScopes | None = None  # admins' `/kb scope` choices; None: every channel uses all
    allow_private_urls: bool = False  # only for tests and closed networks: `/kb add` may fetch local addresses
    uploads_per_hour: int = 30  # per person
    recent_uploads: dict[str, list[float]] = field(default_factory=dict)


REFUSED_ADMIN = "Only admins can do that here. Ask a workspace or chat admin."
