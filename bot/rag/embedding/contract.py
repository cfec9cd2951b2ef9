"""What an embedder is to the rest of kbot: two calls (documents, a query), a fingerprint (kind, model,
dimension) that the store records next to the vectors it wrote, and the options that choose one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from haystack.dataclasses import Document

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
LOCAL_MODEL_DIM = 384
OPENAI_DEFAULT_MODEL = "text-embedding-3-small"
OPENAI_KNOWN_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
# Headings and titles are embedded with each chunk: they say what a passage is about.
META_FIELDS_TO_EMBED = ["title", "heading"]


@dataclass(frozen=True)
class EmbedderOptions:
    """Which embedder, and how to reach it (plain values: the app maps its settings onto these)."""

    kind: str = "local"  # local | openai | none
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    batch_size: int = 64
    timeout_s: float = 30.0
    precision: str = "auto"  # local only: auto | float32 | bfloat16 | int8
    runtime: str = "auto"  # local only: auto | numpy | onnx | sentence-transformers
    threads: int = 0  # local only: CPU threads to embed with; 0: the library's default
    cache_dir: str | None = None  # local only: where the ONNX graph is kept (data_dir/models); None: in memory


@dataclass(frozen=True)
class EmbedderFingerprint:
    kind: str
    model: str
    dim: int
    # "" for float32 (and bfloat16, whose vectors are float32's within cosine 0.9999); "int8": the
    # quantized graph's vectors, close but not the same, so a store records which it holds.
    precision: str = ""

    def __repr__(self) -> str:  # as before the precision field, for float32 (reference files name it)
        extra = f", precision={self.precision!r}" if self.precision else ""
        return f"EmbedderFingerprint(kind={self.kind!r}, model={self.model!r}, dim={self.dim}{extra})"

    def describe(self) -> str:
        precision = f", {self.precision}" if self.precision else ""
        return f"{self.kind}/{self.model} ({self.dim} dims{precision})"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "model": self.model, "dim": self.dim}
        if self.precision:
            data["precision"] = self.precision
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbedderFingerprint:
        return cls(kind=str(data["kind"]), model=str(data["model"]), dim=int(data["dim"]),
                   precision=str(data.get("precision") or ""))


class Embedder(Protocol):
    fingerprint: EmbedderFingerprint

    def embed_documents(self, documents: list[Document]) -> list[Document]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def warm_up(self) -> None:
        """Load everything now (benchmarks, tests, a worker before its first job)."""
        ...

    def warm_up_queries(self) -> None:
        """Load what embedding a question needs, and embed one: a chat process that never indexes
        never loads the document side."""
        ...


class Encoder(Protocol):
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...
