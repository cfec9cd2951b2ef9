"""Composition root: builds the store, the embedder and the knowledge base from settings."""

from __future__ import annotations

from bot.config import Settings
from bot.rag.embedders import LOCAL_MODEL_DIM, LOCAL_MODEL_NAME, EmbedderFingerprint, build_embedder
from bot.rag.indexing import Indexer
from bot.rag.knowledge_base import NO_EMBEDDER, KnowledgeBase
from bot.rag.stores.base import StoreBackend


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


__all__ = ["EmbedderFingerprint", "build_backend", "build_indexer", "build_knowledge_base", "describe_embedder"]
