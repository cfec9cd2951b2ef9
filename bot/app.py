"""Composition root: builds the store, the embedder and the knowledge base from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import Settings
from bot.rag.embedders import LOCAL_MODEL_DIM, LOCAL_MODEL_NAME, EmbedderFingerprint, build_embedder
from bot.rag.indexing import Indexer
from bot.rag.knowledge_base import NO_EMBEDDER, KnowledgeBase
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


def build_indexer(settings: Settings, knowledge_base: KnowledgeBase) -> Indexer:
    return Indexer(knowledge_base, settings.knowledge)


def build_conversation(settings: Settings, knowledge_base: KnowledgeBase | None = None) -> Conversation:
    from bot.conversation import Conversation
    from bot.db import make_engine
    from bot.memory import ThreadMemory
    from bot.rag.generation import LLMGenerator

    kb = knowledge_base or build_knowledge_base(settings)
    engine = make_engine(settings.database.url, settings.data_path)
    llm = LLMGenerator(settings.llm) if settings.llm.effective_kind == "openai" else None
    return Conversation(kb, ThreadMemory(engine, settings.answer.history_chars), llm, settings.answer)


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
    "EmbedderFingerprint", "build_backend", "build_conversation", "build_indexer", "build_knowledge_base",
    "describe_answer_mode", "describe_embedder",
]
