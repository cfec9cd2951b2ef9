"""The local embedder without torch: texts in length-sorted batches through an encoder (NumPy's or
ONNX Runtime's), under the same fingerprint as the sentence-transformers runtime, so stores written
by either stay valid."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np
from haystack.dataclasses import Document

from bot.rag.embedding.contract import META_FIELDS_TO_EMBED, EmbedderFingerprint, Encoder
from bot.rag.embedding.minilm import MiniLMEncoder

_EMBEDDING_SEPARATOR = "\n"  # how Haystack's sentence-transformers embedder joins meta fields and text


class LeanLocalEmbedder:
    """The local embedder without torch: loads on first use, embeds in length-sorted batches (so
    little padding is computed), and writes vectors under the same fingerprint as the
    sentence-transformers runtime, so stores written by either stay valid."""

    def __init__(self, folder: str, name: str, dim: int, batch_size: int = 16,
                 make_encoder: Callable[[Path], Encoder] = MiniLMEncoder) -> None:
        self.folder = Path(folder)
        self.fingerprint = EmbedderFingerprint("local", name, dim)
        self.batch_size = batch_size
        self._make_encoder = make_encoder
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._make_encoder(self.folder)

    def warm_up_queries(self) -> None:
        """Loaded, and one question embedded: a runtime's first run allocates its buffers."""
        self._encode(["warm-up"])

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        assert self._encoder is not None
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), self._encoder.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            vectors[chunk] = self._encoder.encode([texts[i] for i in chunk])
        return vectors

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        if not documents:
            return []
        texts = [_text_to_embed(d) for d in documents]
        vectors = self._encode(texts)
        return [_with_embedding(d, vector) for d, vector in zip(documents, vectors, strict=True)]

    def embed_query(self, text: str) -> list[float]:
        return cast(list[float], self._encode([text])[0].tolist())


def _text_to_embed(document: Document) -> str:
    meta = [str(document.meta[k]) for k in META_FIELDS_TO_EMBED if document.meta.get(k) is not None]
    return _EMBEDDING_SEPARATOR.join([*meta, document.content or ""])


def _with_embedding(document: Document, vector: Any) -> Document:
    return replace(document, embedding=vector.tolist())
