"""Query latency of keyword, vector and hybrid retrieval at 10k and 100k chunks, with a scope filter.

Run: .venv/bin/python bench/retrieval.py [--sizes 10000 100000] [--queries 200] [--uploads 10]
Vectors are random unit vectors (the store's cost does not depend on what they mean); query
embedding with the local model is timed separately. Target: hybrid p95 at 100k chunks <= 20 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    from bot.cli.startup import small_pages_for_numpy
except ImportError:  # a tree from before it: NumPy's default, huge pages
    pass
else:
    small_pages_for_numpy()  # as every `kbot` command does

import numpy as np  # noqa: E402
from haystack.dataclasses import Document  # noqa: E402
from haystack.document_stores.types import DuplicatePolicy  # noqa: E402

from bench.common import peak_rss_mb, sentence, summary_ms, zipf_words  # noqa: E402
from bot.rag.embedding.contract import EmbedderFingerprint  # noqa: E402
from bot.rag.knowledge_base import KnowledgeBase  # noqa: E402
from bot.rag.stores.chunk_cache import ChunkCache  # noqa: E402
from bot.rag.stores.filters import scope_filter  # noqa: E402
from bot.rag.stores.lancedb_backend import LanceDBBackend  # noqa: E402

DIM = 384
SCOPES = ["global"] + [f"slack:T{i}" for i in range(19)]


def build(path: Path, size: int, rng: random.Random) -> LanceDBBackend:
    backend = LanceDBBackend(path, DIM)
    np_rng = np.random.default_rng(1)
    batch = 5000
    for start in range(0, size, batch):
        vectors = np_rng.standard_normal((min(batch, size - start), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        docs = [
            Document(
                id=f"c{start + i}",
                content=" ".join(sentence(rng, 15) for _ in range(8)),
                meta={"scope": SCOPES[(start + i) % len(SCOPES)], "source": f"doc{(start + i) // 20}.md"},
                embedding=vectors[i].tolist(),
            )
            for i in range(len(vectors))
        ]
        backend.document_store.write_documents(docs, policy=DuplicatePolicy.OVERWRITE)
    backend.optimize()
    return backend


class PrecomputedQueries:
    """The query vectors made up front, so the knowledge base's own work is what is timed."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.fingerprint = EmbedderFingerprint("bench", "random", DIM)

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text]

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        return documents


def time_queries(fn, queries: list, warmup: int = 5) -> list[float]:
    for q in queries[:warmup]:
        fn(q)
    samples = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        samples.append(time.perf_counter() - started)
    return samples


def after_uploads(backend: LanceDBBackend, kb: KnowledgeBase, pairs: list, uploads: int) -> list[float]:
    """What a running bot's users see after an upload: each one writes a document of 20 chunks, then
    10 questions come at chat pace (50 ms apart) and each is timed, cold caches included."""
    rng = random.Random(5)
    np_rng = np.random.default_rng(6)
    samples: list[float] = []
    for upload in range(uploads):
        vectors = np_rng.standard_normal((20, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        backend.document_store.write_documents(
            [Document(id=f"u{upload}-{i}", content=" ".join(sentence(rng, 15) for _ in range(8)),
                      meta={"scope": "global", "source": f"upload{upload}.md"}, embedding=vectors[i].tolist())
             for i in range(20)], policy=DuplicatePolicy.OVERWRITE)
        for text, _ in pairs[upload * 10:(upload + 1) * 10]:
            started = time.perf_counter()
            kb.retrieve(text, ["global", "slack:T3"], 5)
            samples.append(time.perf_counter() - started)
            time.sleep(0.05)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=10, help="uploads followed by 10 timed questions each")
    args = parser.parse_args()
    rng = random.Random(3)
    texts = [" ".join(zipf_words(rng, 3)) for _ in range(args.queries)]
    np_rng = np.random.default_rng(2)
    vectors = np_rng.standard_normal((args.queries, DIM)).astype(np.float32)
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()
    filters = scope_filter(["global", "slack:T3"])  # 2 of 20 scopes: 10% of chunks visible

    print("bench/retrieval.py — LanceDB, scope filter on (2 of 20 scopes), top_k 5, 2-core CPU")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            backend = build(Path(tmp) / "store", size, rng)
            build_s = time.perf_counter() - started
            # A running bot builds its in-memory BM25 index at start (`kbot run` warms up) or after the
            # second keyword query; build it first so the steady state is timed (older trees: no-op).
            started = time.perf_counter()
            in_memory = backend.document_store.build_keyword_index()
            bm25_s = time.perf_counter() - started
            store = backend.document_store
            index_s = []  # the BM25 index alone, from the copy in memory (three builds)
            for _ in range(3 if in_memory else 0):
                started = time.perf_counter()
                store.memory.build_keyword(store.memory.cache)
                index_s.append(time.perf_counter() - started)
            load_s = []  # the copy alone, read from the table as after every write (three loads)
            for _ in range(3 if store.memory.cache is not None else 0):
                table = store.open_table()
                started = time.perf_counter()
                ChunkCache.load(table, table.version, DIM)
                load_s.append(time.perf_counter() - started)
            pairs = list(zip(texts, vectors, strict=True))
            keyword = time_queries(lambda p, b=backend: b.keyword(p[0], filters, 5), pairs)
            vector = time_queries(lambda p, b=backend: b.vector(p[1], filters, 5), pairs)
            hybrid = time_queries(lambda p, b=backend: b.hybrid(p[0], p[1], filters, 5), pairs)
            kb = KnowledgeBase(backend, PrecomputedQueries(dict(pairs)), PrecomputedQueries({}).fingerprint)
            explained = time_queries(lambda p, k=kb: k.retrieve(p[0], ["global", "slack:T3"], 5), pairs)
            cache = backend.document_store.memory.cache
            held = (cache.matrix.nbytes + cache.content.nbytes + cache.meta.nbytes) / 1e6 if cache else 0.0
            bm25 = (f"copy and BM25 index loaded in {bm25_s:.2f} s, the index alone "
                    f"{min(index_s):.2f}–{max(index_s):.2f} s") if in_memory else "keyword search by LanceDB"
            print(f"{size:>7} chunks (built in {build_s:5.1f} s; in-memory copy {held:5.0f} MB; {bm25})")
            if load_s:
                print(f"  the copy alone loaded in {min(load_s):.2f}–{max(load_s):.2f} s (3 loads)")
            print(f"  keyword  {summary_ms(keyword)}")
            print(f"  vector   {summary_ms(vector)}")
            print(f"  hybrid   {summary_ms(hybrid)}")
            print(f"  answers' retrieval (KnowledgeBase.retrieve: hybrid, fused and explained, + best similarity) "
                  f"{summary_ms(explained)}")
            after = after_uploads(backend, kb, pairs, args.uploads)
            print(f"  the first 10 questions after each of {args.uploads} uploads (KnowledgeBase.retrieve) "
                  f"{summary_ms(after)}  worst {max(after) * 1000:7.2f} ms")
            backend.close()

    from bot.rag.embedding.build import build_embedder
    from bot.rag.embedding.contract import EmbedderOptions

    with tempfile.TemporaryDirectory() as models:  # auto keeps its question-side ONNX graph there
        for runtime in ("numpy", "auto"):
            embedder = build_embedder(EmbedderOptions(kind="local", runtime=runtime, cache_dir=models))
            warm = getattr(embedder, "warm_up_queries", None) or embedder.warm_up
            warm()
            embed = time_queries(embedder.embed_query, texts[:100])
            print(f"query embedding (local all-MiniLM-L6-v2, runtime {runtime}, excluded above)  {summary_ms(embed)}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
