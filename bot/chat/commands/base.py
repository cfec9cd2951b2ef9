"""What every chat command gets and gives back; no platform SDK is imported here."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.messages import Incoming
from bot.insights.gaps import GapLog
from bot.jobs.queue import JobQueue
from bot.jobs.removal import DocumentRemover
from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.parsing.addresses import AddressPolicy
from bot.state.access import AccessControl
from bot.state.memory import ThreadMemory
from bot.state.place_choices import ChannelScopes
from bot.state.rates import Limit, RateLimiter


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
