"""`kbot ingest`, `search`, `status`, `delete` and `reindex`: the knowledge base from the terminal."""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK, CliError, positive_int
from bot.cli.output import SCOPE_PLATFORMS, Progress, folder_size, human_bytes, scope_warnings, snippet
from bot.config import Settings

# Each command imports the knowledge base's parts inside it: `kbot --help`, or a config error, must not
# load LanceDB, Haystack or a model.


def add_parsers(commands: Any) -> None:
    ingest = commands.add_parser("ingest", help="index files, folders and URLs (default: knowledge.paths)")
    ingest.add_argument("items", nargs="*", metavar="PATH|URL", help="files, folders or http(s) URLs")
    ingest.add_argument("--scope", default="global", help="scope the chunks belong to (default: global)")
    ingest.add_argument("--uploader", default=None, help="who added them (recorded on each chunk)")
    ingest.set_defaults(run=cmd_ingest)

    search = commands.add_parser("search", help="ranked passages for a query")
    search.add_argument("query")
    search.add_argument("--scope", action="append", dest="scopes", metavar="S",
                        help="a scope the search may see; repeatable (default: global)")
    search.add_argument("--top-k", type=positive_int, default=None, metavar="N",
                        help="how many hits (default: retrieval.top_k)")
    search.add_argument("--mode", choices=["hybrid", "keyword", "vector"], default=None,
                        help="override retrieval.mode")
    search.add_argument("--json", action="store_true", help="print one JSON array")
    search.set_defaults(run=cmd_search)

    status = commands.add_parser("status", help="documents, chunks, store, embedder, disk use")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=cmd_status)

    delete = commands.add_parser("delete", help="remove every chunk of a source")
    delete.add_argument("source", help="the source name shown by `kbot status`, a path, or a URL")
    delete.add_argument("--scope", action="append", dest="scopes", metavar="S",
                        help="only in this scope; repeatable (default: every scope)")
    delete.set_defaults(run=cmd_delete)

    reindex = commands.add_parser("reindex", help="re-embed every chunk with the configured embedder")
    reindex.set_defaults(run=cmd_reindex)


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    for line in scope_warnings([args.scope]):  # a mistyped scope would make a new, unseen place
        print(line, file=sys.stderr)
    from bot.app import App
    from bot.rag.indexer import IndexOutcome
    from bot.rag.sources import expand, summarize

    items = args.items or [str(p) for p in settings.knowledge_paths]
    targets, outcomes = expand(items, settings.root)
    if not targets and not outcomes:
        print("nothing to index (no supported files found)")
        return EXIT_OK
    app = App(settings)
    kb = app.knowledge_base
    kb.check_embedder()
    indexer = app.indexer
    progress = Progress(len(targets))
    for target in targets:
        progress.start(target.source)
        try:
            if target.url:
                outcome = indexer.index_url(target.url, args.scope, args.uploader, progress.update)
            else:
                assert target.path is not None
                outcome = indexer.index_path(target.path, target.source, args.scope, args.uploader, progress.update)
        except Exception as exc:  # one bad document must not stop the batch
            logging.getLogger("kbot").debug("indexing failed", exc_info=True)
            outcome = IndexOutcome(target.source, "failed", reason=f"internal error: {exc.__class__.__name__}")
        progress.done(outcome)
        outcomes.append(outcome)
    progress.close()
    if any(o.status == "indexed" for o in outcomes):
        kb.optimize()
    for outcome in outcomes:
        if outcome.status == "failed":
            print(f"failed: {outcome.source}: {outcome.reason}", file=sys.stderr)
        for warning in outcome.warnings:
            print(f"warning: {outcome.source}: {warning}", file=sys.stderr)
    chunks = sum(o.chunks for o in outcomes)
    pages = sum(o.pages for o in outcomes)
    reused = sum(o.reused for o in outcomes)
    kept = f" ({reused} kept their vectors from the previous version)" if reused else ""
    print(f"{summarize(outcomes)} — {chunks} chunks{kept}, {pages} pages, scope {args.scope}, "
          f"{progress.elapsed():.1f} s")
    return EXIT_FAILED if any(o.status == "failed" for o in outcomes) else EXIT_OK


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App

    scopes = args.scopes or ["global"]
    for line in scope_warnings(scopes):  # a mistyped platform, before anything is read
        print(line, file=sys.stderr)
    kb = App(settings).knowledge_base
    if args.mode in ("vector", "hybrid") and kb.embedder is None:
        raise CliError(f"--mode {args.mode} needs an embedder; embedder.kind is none")
    hits = kb.search(args.query, scopes, top_k=args.top_k, mode=args.mode)
    if not hits:  # nothing found: say so when a scope asked for holds nothing at all (a typo?)
        known = sorted({source.scope for source in kb.sources()})
        for line in scope_warnings([s for s in scopes if s.partition(":")[0] in SCOPE_PLATFORMS], known):
            print(line, file=sys.stderr)
    if args.json:
        print(json.dumps([_hit_json(d) for d in hits], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not hits:
        print(f"no matches in scope {', '.join(scopes)}")
        return EXIT_OK
    for rank, doc in enumerate(hits, 1):
        print(f"{rank}. {_where(doc.meta)}  (score {doc.score:.3f}, scope {doc.meta.get('scope')})")
        print("   " + snippet(doc.content or ""))
    return EXIT_OK


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.cli.describe import describe_answer_mode, describe_embedder, describe_reranker

    kb = App(settings).knowledge_base
    sources = kb.sources()
    recorded = kb.recorded_fingerprint()
    info: dict[str, Any] = {
        "store": kb.backend.kind,
        "store_location": kb.backend.describe(),
        "embedder": describe_embedder(settings),
        "retrieval_mode": settings.effective_mode,
        "retrieval_preset": settings.retrieval.preset,
        "reranker": describe_reranker(settings),
        "answer_pipeline": settings.answer.pipeline or "default",
        "indexing_pipeline": settings.knowledge.pipeline or "default",
        "answer_mode": describe_answer_mode(settings),
        "documents": len(sources),
        "chunks": kb.count_chunks(),
        "data_dir": str(settings.data_path),
        "data_dir_bytes": folder_size(settings.data_path),
        "embedder_mismatch": recorded is not None and recorded != kb.fingerprint,
        "sources": [s.__dict__ for s in sources],
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    print(f"store:      {info['store_location']}")
    print(f"embedder:   {info['embedder']}")
    if recorded is not None and info["embedder_mismatch"]:
        print(f"            ! the store was embedded with {recorded.describe()}; run `kbot reindex`")
    print(f"retrieval:  {info['retrieval_mode']}, top {settings.retrieval.top_k}, preset {info['retrieval_preset']}"
          f" (channels may choose another: /kb preset), reranker {info['reranker']}")
    print(f"pipelines:  answer {info['answer_pipeline']}, indexing {info['indexing_pipeline']}"
          " (`kbot pipeline show`)")
    print(f"answers:    {info['answer_mode']}")
    print(f"documents:  {info['documents']}")
    print(f"chunks:     {info['chunks']}")
    print(f"data_dir:   {info['data_dir']} ({human_bytes(info['data_dir_bytes'])})")
    if sources:
        print()
        for s in sources:
            pages = f", {s.pages} pages" if s.pages else ""
            print(f"  {s.source}  [{s.scope}]  {s.chunks} chunks{pages}")
    return EXIT_OK


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.rag.parsing import is_url
    from bot.rag.sources import source_name

    app = App(settings)
    kb, remover = app.knowledge_base, app.remover
    names = [args.source]
    if not is_url(args.source):
        names.append(source_name(Path(args.source), settings.root))
    for name in dict.fromkeys(names):
        scopes = sorted({s.scope for s in kb.sources(args.scopes) if s.source == name})
        removed = sum(remover.remove(name, scope).chunks for scope in scopes)
        if removed:
            print(f"deleted {name}: {removed} chunks")
            return EXIT_OK
    raise CliError(f"no indexed source named {args.source!r} (see `kbot status` for the names)")


def cmd_reindex(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App

    kb = App(settings).knowledge_base
    started = time.monotonic()
    progress = Progress(kb.count_chunks(), unit="chunk")
    total = kb.reindex(on_progress=lambda done, _total: progress.set(done))
    progress.close()
    print(f"reindexed {total} chunks with {kb.fingerprint.describe()} in {time.monotonic() - started:.1f} s")
    return EXIT_OK


def _hit_json(doc: Any) -> dict[str, Any]:
    meta = doc.meta
    return {
        "source": meta.get("source"),
        "page": meta.get("page"),
        "page_end": meta.get("page_end"),
        "heading": meta.get("heading"),
        "title": meta.get("title"),
        "url": meta.get("url"),
        "scope": meta.get("scope"),
        "score": round(float(doc.score or 0.0), 6),
        "text": doc.content,
        "id": doc.id,
    }


def _where(meta: dict[str, Any]) -> str:
    where = str(meta.get("source"))
    if meta.get("page"):
        where += f" p.{meta['page']}" + (f"-{meta['page_end']}" if meta.get("page_end") else "")
    if meta.get("heading"):
        where += f" — {meta['heading']}"
    return where
