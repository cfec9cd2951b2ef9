"""The configured embedder: local all-MiniLM-L6-v2 (offline) on the runtime `embedder.runtime` names or
`auto` picks, an OpenAI-compatible server, or none (keyword search only)."""

# Imports inside functions: ONNX Runtime loads only when the onnx runtime is chosen.

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

from bot.rag.embedding.contract import LOCAL_MODEL_DIM, LOCAL_MODEL_NAME, Embedder, EmbedderFingerprint, EmbedderOptions
from bot.rag.embedding.haystack_embedders import TORCH_HINT, openai_embedder, sentence_transformers_embedder
from bot.rag.embedding.local import LeanLocalEmbedder
from bot.rag.embedding.model import local_model_path
from bot.rag.embedding.split import SplitEmbedder
from bot.rag.embedding.threads import limit_threads


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in modules)


def _prefers_torch(settings: EmbedderOptions) -> bool:
    """bfloat16 asked for, or available in hardware (auto): only torch computes it, twice as fast.
    Asked for by name where torch is not installed, it is a configuration error, not a silent float32."""
    if settings.precision in ("float32", "int8"):
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
    """all-MiniLM-L6-v2 (or `embedder.model`) by `embedder.runtime`; see split.py, local.py and
    onnx_graph.py. auto: questions on ONNX Runtime from the graph cached under data_dir/models (in NumPy
    where ONNX Runtime is not installed), documents on ONNX Runtime too (or torch where the CPU has
    bfloat16, or NumPy when neither is installed)."""
    if settings.runtime == "sentence-transformers" or (settings.runtime == "auto" and settings.model is not None):
        return sentence_transformers_embedder(settings, batch_size)
    folder = settings.model or local_model_path()
    name = settings.model or LOCAL_MODEL_NAME
    if settings.precision == "int8":  # ONNX Runtime's int8 kernels, questions and documents alike
        if settings.runtime not in ("auto", "onnx") or not _installed("onnxruntime", "onnx"):
            raise RuntimeError("embedder.precision int8 runs on ONNX Runtime: set embedder.runtime to auto or onnx "
                               "and install the lean extra (pip install -e '.[lean]')")
        return SplitEmbedder(_onnx(settings, folder, name, 1, threads=1),
                             lambda: _onnx(settings, folder, name, batch_size))
    if settings.runtime == "onnx":
        if not _installed("onnxruntime", "onnx"):
            raise RuntimeError("embedder.runtime onnx needs onnxruntime and onnx: pip install -e '.[lean]'")
        return _onnx(settings, folder, name, batch_size)
    documents = "numpy" if settings.runtime == "numpy" else auto_document_runtime(settings)
    if documents == "numpy" or auto_query_runtime(settings) == "numpy":
        lean = LeanLocalEmbedder(folder, name, LOCAL_MODEL_DIM, batch_size)
        if settings.model is not None:
            lean.fingerprint = EmbedderFingerprint("local", settings.model, len(lean.embed_query("dimension probe")))
        if documents == "numpy":
            return lean
        queries: Embedder = lean
    else:
        queries = _onnx(settings, folder, name, 1, threads=1)
    if documents == "onnx":
        return SplitEmbedder(queries, lambda: _onnx(settings, folder, name, batch_size))
    return SplitEmbedder(queries, lambda: sentence_transformers_embedder(settings, batch_size))


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
    from bot.rag.embedding.onnx_graph import OnnxEncoder  # onnx and onnxruntime: only where they run

    cache = Path(settings.cache_dir) if settings.cache_dir else None
    count = settings.threads if threads is None else threads
    int8 = settings.precision == "int8"
    embedder = LeanLocalEmbedder(folder, name, LOCAL_MODEL_DIM, batch_size,
                                 make_encoder=lambda path: OnnxEncoder(path, cache, count, int8=int8))
    if settings.model is not None:  # another BERT-style model: its own dimension
        dim = len(embedder.embed_query("dimension probe"))
        embedder.fingerprint = EmbedderFingerprint("local", settings.model, dim)
    if int8:
        embedder.fingerprint = replace(embedder.fingerprint, precision="int8")
    return embedder


def build_embedder(settings: EmbedderOptions) -> Embedder | None:
    """The configured embedder, or None for keyword-only (`embedder.kind: none`)."""
    if settings.kind == "none":
        return None
    if settings.kind == "local":
        if settings.threads:
            limit_threads(settings.threads)
        return _local(settings, batch_size=min(settings.batch_size, 16))
    return openai_embedder(settings, batch_size=settings.batch_size)
