"""Haystack's embedder components behind kbot's Embedder: sentence-transformers (torch, opt-in) and
OpenAI-compatible servers."""

# Imports inside functions: torch and sentence-transformers (the optional `local` extra) load only when that
# runtime is chosen.

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast

from haystack.dataclasses import Document

from bot.rag.embedding.contract import (
    LOCAL_MODEL_DIM,
    LOCAL_MODEL_NAME,
    META_FIELDS_TO_EMBED,
    OPENAI_DEFAULT_MODEL,
    OPENAI_KNOWN_DIMS,
    EmbedderFingerprint,
    EmbedderOptions,
)
from bot.rag.embedding.model import local_model_path

# How to get torch's CPU build and the local extra; a plain `pip install torch` takes a multi-GB CUDA build.
TORCH_HINT = "scripts/setup --torch installs torch's CPU build and sentence-transformers"



class HaystackEmbedder:
    """Two Haystack embedder components (documents, queries), warmed up on first use."""

    def __init__(
        self,
        fingerprint: EmbedderFingerprint,
        document_embedder: Any,
        text_embedder: Any,
        compute: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        self.fingerprint = fingerprint
        self._document_embedder = document_embedder
        self._text_embedder = text_embedder
        self._compute = compute
        self._warm = False

    def warm_up(self) -> None:
        if not self._warm:
            for component in (self._document_embedder, self._text_embedder):
                if hasattr(component, "warm_up"):
                    component.warm_up()
            self._warm = True

    def warm_up_queries(self) -> None:
        """One model serves both sides here: loading it is the whole warm-up."""
        self.warm_up()

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        if not documents:
            return []
        self.warm_up()
        with self._compute():
            return cast(list[Document], self._document_embedder.run(documents=documents)["documents"])

    def embed_query(self, text: str) -> list[float]:
        self.warm_up()
        with self._compute():
            return cast(list[float], self._text_embedder.run(text=text)["embedding"])


def cpu_bfloat16_available() -> bool:
    """True where the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX); emulated it is slower."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def local_compute(precision: str) -> Callable[[], AbstractContextManager[Any]]:
    """float32, or bfloat16 matrix products with float32 weights and accumulation (autocast).

    On all-MiniLM-L6-v2 bfloat16 halves embedding time and the vectors keep a cosine of 0.9999
    with float32 ones, so both kinds live in one store under one fingerprint.
    """
    if precision == "float32" or (precision == "auto" and not cpu_bfloat16_available()):
        return nullcontext
    import torch

    return lambda: torch.autocast("cpu", dtype=torch.bfloat16)


def sentence_transformers_embedder(settings: EmbedderOptions, batch_size: int) -> HaystackEmbedder:
    # Offline and quiet: nothing is fetched from a hub, no download/loading bars on the terminal.
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder,
            SentenceTransformersTextEmbedder,
        )
    except ImportError as exc:
        raise RuntimeError(
            f"embedder.runtime sentence-transformers needs torch: {TORCH_HINT}, or use runtime auto"
        ) from exc
    model = settings.model or local_model_path()
    name = settings.model or LOCAL_MODEL_NAME
    common: dict[str, Any] = {"model": model, "normalize_embeddings": True, "local_files_only": True}
    document = SentenceTransformersDocumentEmbedder(
        **common, batch_size=batch_size, progress_bar=False, meta_fields_to_embed=META_FIELDS_TO_EMBED
    )
    text = SentenceTransformersTextEmbedder(**common, progress_bar=False)
    dim = LOCAL_MODEL_DIM if settings.model is None else _probe_dim(text)
    return HaystackEmbedder(EmbedderFingerprint("local", name, dim), document, text, local_compute(settings.precision))


def openai_embedder(settings: EmbedderOptions, batch_size: int) -> HaystackEmbedder:
    from haystack.components.embedders import OpenAIDocumentEmbedder, OpenAITextEmbedder
    from haystack.utils import Secret

    model = settings.model or OPENAI_DEFAULT_MODEL
    # Compatible local servers often need no key; the client still wants one.
    key = settings.api_key or "unused"
    common: dict[str, Any] = {
        "api_key": Secret.from_token(key),
        "model": model,
        "api_base_url": settings.base_url,
        "timeout": settings.timeout_s,
        "max_retries": 3,
    }
    document = OpenAIDocumentEmbedder(
        **common, batch_size=batch_size, progress_bar=False, meta_fields_to_embed=META_FIELDS_TO_EMBED,
        raise_on_failure=True,
    )
    text = OpenAITextEmbedder(**common)
    dim = OPENAI_KNOWN_DIMS.get(model) if settings.base_url is None else None
    if dim is None:
        dim = _probe_dim(text)
    return HaystackEmbedder(EmbedderFingerprint("openai", model, dim), document, text)


def _probe_dim(text_embedder: Any) -> int:
    if hasattr(text_embedder, "warm_up"):
        text_embedder.warm_up()
    return len(text_embedder.run(text="dimension probe")["embedding"])
