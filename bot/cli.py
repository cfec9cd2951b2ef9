"""`kbot` / `python -m bot`: the command line over the knowledge base."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.rag.pipeline.presets import PRESETS

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class CliError(Exception):
    """A failure worded for one line on stderr."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kbot",
        description="kbot: a self-hosted knowledge bot that answers from your team's documents.",
        epilog="Config: --config PATH, else $KBOT_CONFIG, else ./config.yaml.",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: $KBOT_CONFIG or ./config.yaml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ingest = commands.add_parser("ingest", help="index files, folders and URLs (default: knowledge.paths)")
    ingest.add_argument("items", nargs="*", metavar="PATH|URL", help="files, folders or http(s) URLs")
    ingest.add_argument("--scope", default="global", help="scope the chunks belong to (default: global)")
    ingest.add_argument("--uploader", default=None, help="who added them (recorded on each chunk)")

    search = commands.add_parser("search", help="ranked passages for a query")
    search.add_argument("query")
    search.add_argument("--scope", action="append", dest="scopes", metavar="S",
                        help="a scope the search may see; repeatable (default: global)")
    search.add_argument("--top-k", type=int, default=None, metavar="N", help="how many hits (default: retrieval.top_k)")
    search.add_argument("--mode", choices=["hybrid", "keyword", "vector"], default=None,
                        help="override retrieval.mode")
    search.add_argument("--json", action="store_true", help="print one JSON array")

    status = commands.add_parser("status", help="documents, chunks, store, embedder, disk use")
    status.add_argument("--json", action="store_true", help="print one JSON object")

    delete = commands.add_parser("delete", help="remove every chunk of a source")
    delete.add_argument("source", help="the source name shown by `kbot status`, a path, or a URL")
    delete.add_argument("--scope", action="append", dest="scopes", metavar="S",
                        help="only in this scope; repeatable (default: every scope)")

    commands.add_parser("reindex", help="re-embed every chunk with the configured embedder")

    ask = commands.add_parser("ask", help="answer a question from the knowledge base, with sources")
    ask.add_argument("question")
    ask.add_argument("--thread", default=None, help="a thread id: runs with the same id share memory")
    ask.add_argument("--scope", action="append", dest="scopes", metavar="S",
                     help="a scope the answer may use; repeatable (default: global)")
    ask.add_argument("--json", action="store_true",
                     help='print one object: {"answer", "sources", "thread", "mode"} (and "explanation")')
    ask.add_argument("--explain", action="store_true",
                     help="after the answer, why these sources: each one's keyword and vector ranks and scores, "
                          "reranker score and matched words")
    ask.add_argument("--preset", choices=list(PRESETS), default=None,
                     help="retrieval effort for this question (default: retrieval.preset)")

    run = commands.add_parser("run", help="serve the enabled platforms (Slack, Discord, Telegram) until stopped")
    run.add_argument("--port", type=int, default=None, metavar="N",
                     help="port for /healthz, /readyz and /metrics (default: server.port)")
    run.add_argument("--role", choices=["all", "chat", "worker"], default="all",
                     help="chat: answer on the platforms and queue uploads; worker: only run indexing jobs and "
                          "re-syncs; all (default): both, as one process")

    migrate = commands.add_parser("migrate", help="bring the database schema up to date (start-up does it too, "
                                                  "unless database.auto_migrate is off)")
    migrate.add_argument("--check", action="store_true",
                         help="change nothing; exit 1 if the schema is behind (for deploy scripts)")

    approve = commands.add_parser("approve", help="let a new chat, server or workspace use kbot (its pairing code)")
    approve.add_argument("code", metavar="CODE|PLACE",
                         help="the code the place was shown, or a place such as telegram:-100123 or discord:GUILD_ID")

    commands.add_parser("access", help="who may use kbot: each platform's rule, approved places, waiting codes")

    revoke = commands.add_parser("revoke", help="withdraw an approval")
    revoke.add_argument("place", help="as `kbot access` shows it, e.g. telegram:-100123")

    pipeline = commands.add_parser("pipeline", help="the answer and indexing pipelines as Haystack YAML")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="show")
    show = pipeline_commands.add_parser(
        "show", help="print a pipeline (the configured one: answer.pipeline / knowledge.pipeline, else the default)")
    show.add_argument("flow", nargs="?", choices=["answer", "indexing"], default=None,
                      help="one of them (default: both, as two YAML documents); save one as a starting point "
                           "for answer.pipeline or knowledge.pipeline")

    from bot.eval_command import add_parser as add_eval_parser

    add_eval_parser(commands)

    from bot.gaps_command import add_parsers as add_gaps_parsers

    add_gaps_parsers(commands)

    from bot.archive_command import add_parsers as add_archive_parsers

    add_archive_parsers(commands)

    chat = commands.add_parser("chat", help="an interactive conversation in one thread")
    chat.add_argument("--thread", default=None, help="continue this thread (default: a new one)")
    chat.add_argument("--scope", action="append", dest="scopes", metavar="S", help="repeatable (default: global)")
    return parser


# -- commands ------------------------------------------------------------------------------------------


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.rag.ingest import expand, summarize

    items = args.items or [str(p) for p in settings.knowledge_paths]
    targets, outcomes = expand(items, settings.root)
    if not targets and not outcomes:
        print("nothing to index (no supported files found)")
        return EXIT_OK
    app = App(settings)
    kb = app.knowledge_base
    kb.check_embedder()
    indexer = app.indexer
    progress = _Progress(len(targets))
    for target in targets:
        progress.start(target.source)
        try:
            if target.url:
                outcome = indexer.index_url(target.url, args.scope, args.uploader, progress.update)
            else:
                assert target.path is not None
                outcome = indexer.index_path(target.path, target.source, args.scope, args.uploader, progress.update)
        except Exception as exc:  # one bad document must not stop the batch
            from bot.rag.indexing import IndexOutcome

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
    if args.top_k is not None and args.top_k < 1:
        raise CliError("--top-k must be 1 or more")
    kb = App(settings).knowledge_base
    if args.mode in ("vector", "hybrid") and kb.embedder is None:
        raise CliError(f"--mode {args.mode} needs an embedder; embedder.kind is none")
    hits = kb.search(args.query, scopes, top_k=args.top_k, mode=args.mode)
    if args.json:
        print(json.dumps([_hit_json(d) for d in hits], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not hits:
        print(f"no matches in scope {', '.join(scopes)}")
        return EXIT_OK
    for rank, doc in enumerate(hits, 1):
        print(f"{rank}. {_where(doc.meta)}  (score {doc.score:.3f}, scope {doc.meta.get('scope')})")
        print("   " + _snippet(doc.content or ""))
    return EXIT_OK


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App, describe_answer_mode, describe_embedder, describe_reranker

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
        "data_dir_bytes": _folder_size(settings.data_path),
        "embedder_mismatch": recorded is not None and recorded != kb.fingerprint,
        "sources": [s.__dict__ for s in sources],
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    print(f"store:      {info['store_location']}")
    print(f"embedder:   {info['embedder']}")
    if info["embedder_mismatch"]:
        print(f"            ! the store was embedded with {recorded.describe()}; run `kbot reindex`")
    print(f"retrieval:  {info['retrieval_mode']}, top {settings.retrieval.top_k}, preset {info['retrieval_preset']}"
          f" (channels may choose another: /kb preset), reranker {info['reranker']}")
    print(f"pipelines:  answer {info['answer_pipeline']}, indexing {info['indexing_pipeline']}"
          " (`kbot pipeline show`)")
    print(f"answers:    {info['answer_mode']}")
    print(f"documents:  {info['documents']}")
    print(f"chunks:     {info['chunks']}")
    print(f"data_dir:   {info['data_dir']} ({_human_bytes(info['data_dir_bytes'])})")
    if sources:
        print()
        for s in sources:
            pages = f", {s.pages} pages" if s.pages else ""
            print(f"  {s.source}  [{s.scope}]  {s.chunks} chunks{pages}")
    return EXIT_OK


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.rag.ingest import source_name
    from bot.rag.parsing import is_url

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
    progress = _Progress(kb.count_chunks(), unit="chunk")
    total = kb.reindex(on_progress=lambda done, _total: progress.set(done))
    progress.close()
    print(f"reindexed {total} chunks with {kb.fingerprint.describe()} in {time.monotonic() - started:.1f} s")
    return EXIT_OK


def _terminal(settings: Settings, thread: str | None, scopes: list[str] | None, preset: str | None = None) -> Any:
    import uuid

    from bot.adapters.console.session import TerminalSession
    from bot.app import App

    return TerminalSession(App(settings, terminal=True), thread or uuid.uuid4().hex[:12],
                           frozenset(scopes or ["global"]), preset=preset or "")


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.adapters.console.port import ConsolePort, SilentPort
    from bot.app import describe_answer_mode

    if not args.question.strip():
        raise CliError("the question is empty")
    session = _terminal(settings, args.thread, args.scopes, args.preset)
    port = SilentPort() if args.json else ConsolePort()
    if not args.json:
        print(f"[{describe_answer_mode(settings)}]", file=sys.stderr)

    async def ask() -> tuple[Any, str | None]:
        try:
            answer = await session.ask(args.question, port)
            explained = await session.explain(answer) if answer is not None and args.explain else None
            return answer, explained
        finally:
            await session.app.aclose()

    answer, explanation = asyncio.run(ask())
    thread, mode = session.thread, session.app.conversation.mode
    if answer is None:
        if args.json:
            print(json.dumps({"error": port.failed, "thread": thread, "mode": mode}))
        return EXIT_FAILED
    if args.json:
        sources = [{"source": s.source, "page": s.page, "page_end": s.page_end, "heading": s.heading,
                    "score": round(s.score, 6), "text": s.text,
                    "number": s.number, "title": s.title, "url": s.url, "why": s.why.to_json() if s.why else None}
                   for s in answer.sources]
        result = {"answer": answer.text, "sources": sources, "thread": thread, "mode": answer.mode}
        if explanation is not None:
            result["explanation"] = explanation
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        if explanation is not None:
            print(f"\n{explanation}")
        print(f"(thread {thread}: pass --thread {thread} to follow up)", file=sys.stderr)
    return EXIT_OK


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot import commands
    from bot.adapters.console.port import ConsolePort
    from bot.app import describe_answer_mode

    session = _terminal(settings, args.thread, args.scopes)
    print(f"kbot chat — thread {session.thread}, {describe_answer_mode(settings)}. /kb help for knowledge "
          "commands; empty line or Ctrl-D to leave.")

    async def loop() -> None:
        try:
            while True:
                try:
                    question = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    break
                if not question.strip():
                    break
                if commands.parse(question) is not None:
                    await session.command(question)
                    continue
                print("kbot> ", end="", flush=True)
                await session.ask(question, ConsolePort())
        finally:
            await session.app.aclose()

    asyncio.run(loop())
    return EXIT_OK


def cmd_pipeline(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App

    app = App(settings)
    flows = [args.flow] if args.flow else ["answer", "indexing"]
    shown = []
    for flow in flows:
        pipeline = app.answer_pipeline if flow == "answer" else app.indexer.pipeline
        configured = settings.answer.pipeline if flow == "answer" else settings.knowledge.pipeline
        origin = f"loaded from {configured}" if configured else "kbot's default"
        shown.append(f"# the {flow} pipeline ({origin})\n{pipeline.dumps()}")
    print("---\n".join(shown), end="")
    return EXIT_OK


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.app import App, check_secrets, describe_answer_mode
    from bot.run import serve

    if args.role != "worker":  # a worker connects to no platform and needs no platform token
        check_secrets(settings)  # a missing token fails now, not after the model has loaded
        settings.require_a_platform()
    if args.port is not None:
        settings.server.port = args.port
    _log_for_serving()
    log = logging.getLogger("kbot.run")
    if args.role == "worker":
        log.info("starting an indexing worker")
    else:
        log.info("starting %s (role %s); answers: %s", ", ".join(settings.enabled_platforms), args.role,
                 describe_answer_mode(settings))
    app = App(settings)
    _ = app.conversation  # the store, the embedder and the database open before the platforms connect
    return asyncio.run(serve(app, on_ready=_freeze_startup_objects, role=args.role))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db import make_engine, where
    from bot.schema import HEAD, revision, upgrade

    engine = make_engine(settings.database.url, settings.data_path, "leave")
    with engine.connect() as connection:
        current = revision(connection)
    if args.check:
        print(f"{where(engine)}: schema {current or 'not created yet'}, this kbot needs {HEAD}")
        return EXIT_OK if current == HEAD else EXIT_FAILED
    before, after = upgrade(engine)
    if before == after:
        print(f"{where(engine)}: schema is up to date ({after})")
    else:
        print(f"{where(engine)}: schema {before or 'created'} → {after}")
    return EXIT_OK


def _access(settings: Settings) -> Any:
    from bot.app import App

    return App(settings).access


def _place(settings: Settings, text: str) -> tuple[str, str]:
    platform, _, workspace = text.partition(":")
    if platform not in settings.platform_names or not workspace:
        raise CliError(f"{text!r} is not a place: write it as platform:id, e.g. telegram:-100123 (see `kbot access`)")
    return platform, workspace


def cmd_approve(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    access = _access(settings)
    who = f"cli:{getpass.getuser()}"
    if ":" in args.code:
        platform, workspace = _place(settings, args.code)
        access.grant(platform, workspace, who)
        print(f"approved {platform}:{workspace}")
        return EXIT_OK
    place = access.approve(args.code, who)
    if place is None:
        raise CliError(f"no place is waiting with the code {args.code} (see `kbot access`)")
    name = f" ({place.name})" if place.name and place.name != place.workspace else ""
    print(f"approved {place.platform}:{place.workspace}{name}")
    return EXIT_OK


def cmd_access(settings: Settings, args: argparse.Namespace) -> int:
    access = _access(settings)
    for platform in settings.platform_names:
        enabled = " (enabled)" if settings.platform(platform).enabled else ""
        print(f"{access.describe(platform)}{enabled}")
    approved, pending = access.approved(), access.pending()
    print(f"\napproved ({len(approved)}):")
    for place in approved:
        print(f"  {place.platform}:{place.workspace}  {place.name}  by {place.who}, {place.at:%Y-%m-%d %H:%M} UTC")
    print(f"\nwaiting for approval ({len(pending)}): approve with `kbot approve CODE`")
    for place in pending:
        print(f"  {place.code}  {place.platform}:{place.workspace}  {place.name}  asked by {place.who}, "
              f"{place.at:%Y-%m-%d %H:%M} UTC")
    return EXIT_OK


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    platform, workspace = _place(settings, args.place)
    if not _access(settings).revoke(platform, workspace):
        raise CliError(f"{args.place} was not approved in the database (places listed in config.yaml stay allowed)")
    print(f"revoked {args.place}: kbot no longer answers there")
    return EXIT_OK


def _freeze_startup_objects(_running: object) -> None:
    """Everything built before serving lives as long as the process: keep it out of the cyclic GC's
    full collections, which otherwise stall the event loop for a few hundred ms under load."""
    import gc

    gc.collect()
    gc.freeze()


def _log_for_serving() -> None:
    """kbot's own INFO lines to stderr; each answer as one JSON line (no message text unless configured)."""
    logging.getLogger("kbot").setLevel(logging.INFO)
    answers = logging.getLogger("kbot.answers")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    answers.addHandler(handler)
    answers.propagate = False


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.eval_command import cmd_eval as run_eval

    return run_eval(settings, args)


def cmd_gaps(settings: Settings, args: argparse.Namespace) -> int:
    from bot.gaps_command import cmd_gaps as run_gaps

    return run_gaps(settings, args)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.archive_command import cmd_export as run_export

    return run_export(settings, args)


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.archive_command import cmd_import as run_import

    return run_import(settings, args)


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    from bot.gaps_command import cmd_stats as run_stats

    return run_stats(settings, args)


COMMANDS = {
    "ingest": cmd_ingest,
    "search": cmd_search,
    "status": cmd_status,
    "delete": cmd_delete,
    "reindex": cmd_reindex,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "pipeline": cmd_pipeline,
    "run": cmd_run,
    "approve": cmd_approve,
    "access": cmd_access,
    "revoke": cmd_revoke,
    "migrate": cmd_migrate,
    "eval": cmd_eval,
    "gaps": cmd_gaps,
    "stats": cmd_stats,
    "export": cmd_export,
    "import": cmd_import,
}


# -- output helpers ------------------------------------------------------------------------------------


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


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def _folder_size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class _Progress:
    """A tqdm bar on a terminal (files, pages, chunks); plain lines otherwise, e.g. in CI logs."""

    def __init__(self, total: int, unit: str = "file") -> None:
        self.total = total
        self.started = time.monotonic()
        self.count = 0
        self.pages = 0
        self.chunks = 0
        self.current = ""
        self.bar = None
        if sys.stderr.isatty() and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)

    def start(self, source: str) -> None:
        self.current = source
        if self.bar is not None:
            self.bar.set_description(Path(source).name[:30])

    def update(self, stage: str, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{stage} {done}/{total}, pages {self.pages}, chunks {self.chunks}")

    def set(self, done: int) -> None:
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()

    def done(self, outcome: Any) -> None:
        self.count += 1
        self.pages += outcome.pages
        self.chunks += outcome.chunks
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"pages {self.pages}, chunks {self.chunks}")
        else:
            indexed = f"{outcome.chunks} chunks" + (f", {outcome.reused} vectors kept" if outcome.reused else "")
            detail = {"indexed": indexed, "unchanged": "unchanged"}.get(
                outcome.status, f"failed ({outcome.reason})"
            )
            print(f"[{self.count}/{self.total}] {outcome.source}: {detail}", file=sys.stderr)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("haystack", "sentence_transformers", "httpx", "transformers", "weaviate", "lancedb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# Commands that embed only questions (on ONNX Runtime, or in NumPy): torch waits for first use.
LAZY_TORCH_COMMANDS = frozenset({"search", "ask", "status", "eval", "delete", "approve", "access", "revoke",
                                 "gaps", "stats", "migrate", "export", "import"})


# One-shot commands start with the cyclic garbage collector off: importing LanceDB, Haystack and
# SQLAlchemy creates about a million long-lived objects, and the full collections that triggers walked
# them all, 0.5-0.7 s of a `kbot ask` on a 2-core VM. After this long, what exists is frozen (later
# collections skip it) and collection resumes, so a long ingest or eval never grows without one.
STARTUP_WITHOUT_GC_S = 5.0


def resume_collection() -> None:
    gc.freeze()
    gc.enable()


def collect_after_startup(seconds: float = STARTUP_WITHOUT_GC_S) -> threading.Timer:
    gc.disable()
    timer = threading.Timer(seconds, resume_collection)
    timer.name, timer.daemon = "kbot-gc-resume", True
    timer.start()
    return timer


# NumPy asks the kernel for transparent huge pages for every array over 4 MB. Where the kernel backs
# them slowly (on the 2-core VM of README "Tests and benchmarks", first touching 150 MB of them took
# 1.9 s against 0.07 s in 4 KB pages), each reload of the store's copy in memory paid that: the
# 100k-chunk copy loaded in up to 4.1-4.7 s, 2.1 s without. Huge pages bought no measurable query
# speed there. NUMPY_MADVISE_HUGEPAGE=1 in the environment restores NumPy's default.
def small_pages_for_numpy() -> None:
    if "numpy" not in sys.modules:  # read once, when NumPy is imported
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def main(argv: Sequence[str] | None = None) -> int:
    small_pages_for_numpy()
    try:
        return _run_command(argv)
    finally:
        # Interpreter exit runs full collections over every object still alive: with LanceDB's and
        # Haystack's modules loaded that was 0.2 s of each short command, after its output was written.
        # Frozen objects are skipped by them; everything is still released when the process ends.
        gc.freeze()


def _run_command(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "run":  # `kbot run` freezes its own heap once it serves
        collect_after_startup()
    if args.command in LAZY_TORCH_COMMANDS:
        from bot.lazy_imports import defer_imports

        defer_imports()
    _quiet_libraries()
    try:
        settings = load_settings(args.config)
        return COMMANDS[args.command](settings, args)
    except ConfigError as exc:
        print(f"kbot: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("kbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from bot.errors import one_line

        message = one_line(exc)
        if message is None:
            raise
        print(f"kbot: error: {message}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
