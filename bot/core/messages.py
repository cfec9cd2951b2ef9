"""The platform-free vocabulary of a conversation, and the two contracts every platform implements.

`Incoming` is what an adapter makes of a verified platform event; `Answer` is what the core hands
back. `ReplyPort` is one reply in one place (the core streams into it); `Adapter` is one platform,
as `kbot run` drives it. A platform is a package under `bot/adapters/` implementing both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.checks import Finding

HEADING_SEPARATOR = " › "  # between the levels of a heading path: "Guide › Backups › Restoring a table"

if TYPE_CHECKING:
    from bot.core.jobs import JobView
    from bot.core.pacing import Pacing


@dataclass(frozen=True)
class ThreadKey:
    """One thread's identity; its memory is keyed by all four parts."""

    platform: str
    workspace: str
    channel: str
    thread: str

    def __str__(self) -> str:
        return ":".join((self.platform, self.workspace, self.channel, self.thread))


@dataclass(frozen=True)
class Incoming:
    """A normalized message.

    `granted` are the scopes the verified event grants (never the text); `scopes` are the ones the
    answer may use, which the channel's `/kb scope` choices can only narrow. An adapter sets
    `scopes`; `granted` defaults to them.
    """

    key: ThreadKey
    author: str
    text: str
    scopes: frozenset[str]
    is_admin: bool = False  # may run admin commands here (platform admin, or listed in `admins`)
    raw: Any = None
    operator: bool = False  # listed in the platform's `admins`: may approve new places
    place_name: str = ""  # the workspace, server or chat as people know it (shown to whoever approves it)
    granted: frozenset[str] = frozenset()
    preset: str = ""  # the channel's retrieval preset (`/kb preset`); "" for the configured one
    visibility: str = ""  # the channel's `/kb visibility` (public | private_first); "" for the configured one

    def __post_init__(self) -> None:
        if not self.granted:
            object.__setattr__(self, "granted", self.scopes)


@dataclass(frozen=True)
class Why:
    """How a passage came to be cited: its place in each ranking, the reranker's score, the words it
    shares with the query (what "why these sources?" shows)."""

    keyword_rank: int | None = None  # 1 = first; None: not in the keyword (BM25) list
    keyword_score: float | None = None
    vector_rank: int | None = None  # None: not in the vector list
    vector_score: float | None = None  # cosine similarity to the query
    fused_score: float | None = None  # cosine + keyword bonus (see bot.rag.stores.fusion.score_fusion)
    rerank_score: float | None = None
    matched_terms: tuple[str, ...] = ()

    @property
    def found_by(self) -> list[str]:
        return [name for name, rank in (("keyword", self.keyword_rank), ("vector", self.vector_rank)) if rank]

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v not in (None, ())}
        if self.matched_terms:
            data["matched_terms"] = list(self.matched_terms)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Why | None:
        if not isinstance(data, dict):
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["matched_terms"] = tuple(known.get("matched_terms") or ())
        return cls(**known)


@dataclass(frozen=True)
class Source:
    """A cited passage: the number the answer uses for it, and where it came from."""

    number: int
    source: str
    title: str | None
    page: int | None
    heading: str | None
    url: str | None
    score: float
    text: str
    why: Why | None = None
    page_end: int | None = None  # the passage runs on to this page

    def pages(self) -> str | None:
        """`p. 12`, or `pp. 12–13` for a passage across a page break."""
        if self.page is None:
            return None
        if self.page_end is not None and self.page_end > self.page:
            return f"pp. {self.page}–{self.page_end}"
        return f"p. {self.page}"

    def label(self) -> str:
        name = self.title or self.source
        parts = [name]
        if self.page is not None:
            parts.append(str(self.pages()))
        heading = self.heading
        if heading and heading.startswith(name + HEADING_SEPARATOR):
            heading = heading[len(name) + len(HEADING_SEPARATOR):]  # the path under the document's own title
        if heading and heading != name:
            parts.append(heading)
        return ", ".join(parts)


@dataclass(frozen=True)
class Turn:
    """One question and its answer, as a thread remembers them."""

    question: str
    answer: str


@dataclass(frozen=True)
class PortLimits:
    """What a reply port can take: the longest message, and the fastest it can be edited."""

    max_length: int
    min_edit_interval_s: float


@dataclass
class Answer:
    """A finished answer as data: ports render the text and its sources their own way."""

    text: str  # the answer itself, Markdown-ish, without its sources
    sources: list[Source] = field(default_factory=list)  # the passages it cites, in number order
    mode: str = "extractive"
    grounded: bool = True  # False when nothing relevant was found
    reply_id: str = ""  # what feedback buttons carry back to find this turn
    retrieval_s: float | None = None
    first_token_s: float | None = None  # from the question to the first streamed token
    tokens: int = 0  # streamed pieces (LLM tokens, or words in extractive mode)
    best_similarity: float | None = None  # of the closest passage retrieved; None where a pipeline gives none


class ReplyPort(Protocol):
    """One reply in one place. `bot/chat/streaming` paces and splits what is still being written; the port
    renders and sends, and draws every write on its `pacing` budgets (finals wait their turn)."""

    @property
    def limits(self) -> PortLimits:
        """How long a message may be and how often it may be edited."""

    @property
    def pacing(self) -> Pacing:
        """The budgets every write draws on."""

    async def start(self) -> None:
        """The question was received: show that kbot is working on it."""

    async def update(self, index: int, text: str) -> None:
        """Message `index` of this reply now reads `text` (plain, still being written); index == the
        number of messages so far starts a new one."""

    async def finish(self, answer: Answer) -> None:
        """The final answer: render it for the platform (text and sources), split it at the
        platform's limit and send it, replacing what was streamed."""

    async def fail(self, message: str) -> None:
        """End the reply with one short message for the person, after what was shown so far."""


class Adapter(Protocol):
    """One platform, as `kbot run` drives it."""

    name: str

    async def start(self) -> None:
        """Connect and begin receiving; returns once connected."""

    async def stop_receiving(self) -> None:
        """Take no new messages (replies in flight keep their clients)."""

    async def close(self) -> None:
        """Close every client and connection."""

    async def ready(self) -> bool:
        """For /readyz: receiving, and the platform's API answering (it may ask the API)."""

    async def diagnose(self) -> list[Finding]:
        """For `kbot doctor`: the token, scopes or intents, and the connection, checked with the
        platform itself, without receiving anything; then every client it opened is closed."""

    async def show_job(self, view: JobView) -> None:
        """Show an indexing job's progress in the message its command posted (`view.target`)."""

    async def post_report(self, channel: str, text: str, image: bytes) -> None:
        """Post a report (the coverage digest): its chart as an image, its text beside it. `channel` is
        the platform's channel id, or `@user` for a person's direct messages where the platform has them."""
