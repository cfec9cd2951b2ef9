"""The configured parts in words, without building them: `kbot status` prints these, and `kbot run`
logs them at start-up."""

# Imports inside functions: the embedder's modules load only when a description needs them.

from __future__ import annotations

from bot.config import Settings
from bot.wiring import embedder_options


def describe_answer_mode(settings: Settings) -> str:
    """How answers are made, in words (printed at start-up and by `kbot status`)."""
    if settings.llm.effective_kind == "extractive":
        why = " (no LLM configured: set llm.api_key or llm.base_url)" if settings.llm.kind == "openai" else ""
        return f"extractive: quoted passages, no LLM{why}"
    return f"llm: {settings.llm.model} via {settings.llm.base_url or 'api.openai.com'}"


def describe_reranker(settings: Settings) -> str:
    reranker = settings.retrieval.reranker
    if reranker.kind == "local":
        return f"local cross-encoder at {reranker.model_path}"
    if reranker.kind == "http":
        return f"http ({reranker.style} style) at {_without_secrets(reranker.url or '')}"
    return "none"


def _without_secrets(url: str) -> str:
    """An address fit for printing: no user, password or query (where keys tend to hide)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.netloc.rpartition("@")[2]) or ""
    return f"{parts.scheme}://{host}{parts.path}"


def describe_embedder(settings: Settings) -> str:
    """The configured embedder in words, without loading it."""
    if settings.embedder.kind == "none":
        return "none (keyword search only)"
    if settings.embedder.kind == "local":
        from bot.rag.embedding.build import auto_document_runtime, auto_query_runtime
        from bot.rag.embedding.contract import LOCAL_MODEL_DIM, LOCAL_MODEL_NAME

        model = settings.embedder.model or LOCAL_MODEL_NAME
        dims = f", {LOCAL_MODEL_DIM} dims" if settings.embedder.model is None else ""
        names = {"numpy": "NumPy", "onnx": "ONNX Runtime", "sentence-transformers": "sentence-transformers"}
        options = embedder_options(settings)
        documents = auto_document_runtime(options)
        queries = "numpy" if documents == "numpy" else auto_query_runtime(options)
        runtime = (names.get(settings.embedder.runtime)
                   or f"queries in {names[queries]}, documents with {names[documents]}")
        if settings.embedder.precision == "int8":
            runtime = "int8 on ONNX Runtime, questions and documents"
        return f"local ({model}{dims}, offline; {runtime})"
    where = settings.embedder.base_url or "api.openai.com"
    return f"openai ({settings.embedder.model or 'text-embedding-3-small'} via {where})"
