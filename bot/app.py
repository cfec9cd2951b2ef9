"""Composition root: builds the store, the embedder and the knowledge base from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from bot.access import AccessControl, PlatformAccess
from bot.config import Settings
from bot.rag.embedders import LOCAL_MODEL_DIM, LOCAL_MODEL_NAME, EmbedderFingerprint, build_embedder
from bot.rag.indexing import Indexer
from bot.rag.knowledge_base import NO_EMBEDDER, KnowledgeBase
from bot.rag.parsing import UrlFetcher
from bot.rag.parsing.addresses import AddressPolicy
from bot.rag.stores.base import StoreBackend

if TYPE_CHECKING:
    from bot.conversation import Conversation


def build_backend(settings: Settings, embedding_dim: int | None) -> StoreBackend:
    if settings.store.kind == "weaviate":
        from bot.rag.stores.weaviate import WeaviateBackend

        return WeaviateBackend(settings.store.weaviate)
    from bot.rag.stores.lancedb_backend import LanceDBBackend

    return LanceDBBackend(settings.data_path / "lancedb", embedding_dim)


def build_knowledge_base(settings: Settings) -> KnowledgeBase:
    embedder = build_embedder(settings.embedder)
    fingerprint = embedder.fingerprint if embedder is not None else NO_EMBEDDER
    backend = build_backend(settings, fingerprint.dim or None)
    return KnowledgeBase(
        backend,
        embedder,
        fingerprint,
        default_mode=settings.effective_mode,
        default_top_k=settings.retrieval.top_k,
    )


def url_policy(settings: Settings) -> AddressPolicy:
    """Where a URL a chat user gave may lead: public addresses, plus what the admins allowed."""
    return AddressPolicy.from_allowlist(settings.jobs.private_url_allowlist,
                                        allow_private=settings.jobs.allow_private_urls)


def access_rules(settings: Settings) -> dict[str, PlatformAccess]:
    """Each platform's rule from config; the admins' own DMs and private chats are always allowed."""
    discord, telegram = settings.discord, settings.telegram
    return {
        "slack": PlatformAccess(settings.slack.access, frozenset(settings.slack.allowed_workspaces)),
        "discord": PlatformAccess(discord.access, frozenset(discord.allowed_servers)
                                  | {f"dm:{user}" for user in [*discord.allowed_users, *discord.admins]}),
        "telegram": PlatformAccess(telegram.access, frozenset([*telegram.allowed_chats, *telegram.admins])),
    }


def build_access(settings: Settings, engine: Engine) -> AccessControl:
    return AccessControl(engine, access_rules(settings))


def build_indexer(settings: Settings, knowledge_base: KnowledgeBase, *, for_chat: bool = False) -> Indexer:
    """`for_chat`: every URL is fetched through the guarded fetcher (jobs and re-syncs of `kbot run`)."""
    fetcher = UrlFetcher(url_policy(settings)) if for_chat else UrlFetcher()
    return Indexer(knowledge_base, settings.knowledge, fetcher)


def build_conversation(settings: Settings, knowledge_base: KnowledgeBase | None = None) -> Conversation:
    from bot.conversation import Conversation
    from bot.db import make_engine
    from bot.memory import ThreadMemory
    from bot.rag.generation import LLMGenerator

    kb = knowledge_base or build_knowledge_base(settings)
    engine = make_engine(settings.database.url, settings.data_path)
    llm = LLMGenerator(settings.llm) if settings.llm.effective_kind == "openai" else None
    return Conversation(kb, ThreadMemory(engine, settings.answer.history_chars), llm, settings.answer,
                        max_question_chars=settings.limits.max_question_chars)


def describe_answer_mode(settings: Settings) -> str:
    """How answers are made, in words (printed at start-up and by `kbot status`)."""
    if settings.llm.effective_kind == "extractive":
        why = " (no LLM configured: set llm.api_key or llm.base_url)" if settings.llm.kind == "openai" else ""
        return f"extractive: quoted passages, no LLM{why}"
    return f"llm: {settings.llm.model} via {settings.llm.base_url or 'api.openai.com'}"


def describe_embedder(settings: Settings) -> str:
    """The configured embedder in words, without loading it."""
    if settings.embedder.kind == "none":
        return "none (keyword search only)"
    if settings.embedder.kind == "local":
        model = settings.embedder.model or LOCAL_MODEL_NAME
        dims = f", {LOCAL_MODEL_DIM} dims" if settings.embedder.model is None else ""
        return f"local ({model}{dims}, offline)"
    where = settings.embedder.base_url or "api.openai.com"
    return f"openai ({settings.embedder.model or 'text-embedding-3-small'} via {where})"


__all__ = [
    "EmbedderFingerprint", "access_rules", "build_access", "build_backend", "build_conversation", "build_indexer",
    "build_knowledge_base", "describe_answer_mode", "describe_embedder", "url_policy",
]
