"""`kbot ask` and `kbot chat`: questions from the terminal, through the same service as the chat
platforms (the terminal is a place of its own: bot/adapters/console)."""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import TYPE_CHECKING, Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK, CliError
from bot.cli.output import scope_warnings
from bot.config import Settings
from bot.rag.pipeline.presets import PRESETS

if TYPE_CHECKING:
    from bot.adapters.console.session import TerminalSession
    from bot.app import App

# The answer flow is imported inside each command: `kbot --help` must not load it.


LEAVE = frozenset({"exit", "quit", "/exit", "/quit", ":q"})  # not questions: kbot chat ends


def add_parsers(commands: Any) -> None:
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
    ask.set_defaults(run=cmd_ask)

    chat = commands.add_parser("chat", help="an interactive conversation in one thread")
    chat.add_argument("--thread", default=None, help="continue this thread (default: a new one)")
    chat.add_argument("--scope", action="append", dest="scopes", metavar="S", help="repeatable (default: global)")
    chat.set_defaults(run=cmd_chat)


def _terminal(settings: Settings, thread: str | None, scopes: list[str] | None,
              preset: str | None = None) -> tuple[App, TerminalSession]:
    from bot.adapters.console.session import TerminalSession
    from bot.app import App

    app = App(settings, terminal=True)
    session = TerminalSession(app.service, app.jobs, thread or uuid.uuid4().hex[:12], frozenset(scopes or ["global"]),
                              preset=preset or "")
    return app, session


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.adapters.console.port import ConsolePort, SilentPort
    from bot.cli.describe import describe_answer_mode

    if not args.question.strip():
        raise CliError("the question is empty")
    for line in scope_warnings(args.scopes or []):
        print(line, file=sys.stderr)
    app, session = _terminal(settings, args.thread, args.scopes, args.preset)
    port = SilentPort() if args.json else ConsolePort()
    if not args.json:
        print(f"[{describe_answer_mode(settings)}]", file=sys.stderr)

    async def ask() -> tuple[Any, str | None]:
        try:
            answer = await session.ask(args.question, port)
            explained = await session.explain(answer) if answer is not None and args.explain else None
            return answer, explained
        finally:
            await app.aclose()

    answer, explanation = asyncio.run(ask())
    thread, mode = session.thread, app.conversation.mode
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
    from bot.adapters.console.port import ConsolePort
    from bot.chat import commands
    from bot.cli.describe import describe_answer_mode

    app, session = _terminal(settings, args.thread, args.scopes)
    print(f"kbot chat — thread {session.thread}, {describe_answer_mode(settings)}. /kb help for knowledge "
          "commands; exit, quit, an empty line or Ctrl-D leaves.")

    async def loop() -> None:
        try:
            while True:
                try:
                    question = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    break
                if not question.strip() or question.strip().lower() in LEAVE:
                    break
                if commands.parse(question) is not None:
                    await session.command(question)
                    continue
                print("kbot> ", end="", flush=True)
                await session.ask(question, ConsolePort())
        finally:
            await app.aclose()

    asyncio.run(loop())
    return EXIT_OK
