"""`kbot run` (serve the platforms, or index as a worker) and `kbot migrate` (the database schema)."""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK, port_number
from bot.config import Settings

# The bot itself is imported inside `cmd_run`: `kbot --help` must not load the platforms' SDKs.


def add_parsers(commands: Any) -> None:
    run = commands.add_parser("run", help="serve the enabled platforms (Slack, Discord, Telegram) until stopped")
    run.add_argument("--port", type=port_number, default=None, metavar="N",
                     help="port for /healthz, /readyz and /metrics (default: server.port)")
    run.add_argument("--role", choices=["all", "chat", "worker"], default="all",
                     help="chat: answer on the platforms and queue uploads; worker: only run indexing jobs and "
                          "re-syncs; all (default): both, as one process")
    run.set_defaults(run=cmd_run)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date (start-up does it too, "
                                                  "unless database.auto_migrate is off)")
    migrate.add_argument("--check", action="store_true",
                         help="change nothing; exit 1 if the schema is behind (for deploy scripts)")
    migrate.set_defaults(run=cmd_migrate)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.cli.describe import describe_answer_mode
    from bot.run import serve

    if args.port is not None:
        settings = settings.model_copy(update={"server": settings.server.model_copy(update={"port": args.port})})
    _log_for_serving()
    log = logging.getLogger("kbot.run")
    if args.role == "worker":
        log.info("starting an indexing worker")
    else:
        log.info("starting %s (role %s); answers: %s", ", ".join(settings.enabled_platforms), args.role,
                 describe_answer_mode(settings))
    # serve() checks the platforms' secrets before anything slow opens, and freezes the start-up heap.
    return asyncio.run(serve(App(settings), role=args.role))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.state.engine import make_engine, where
    from bot.state.schema import HEAD, revision, upgrade
    from bot.wiring import secret_value

    engine = make_engine(settings.database.url, settings.data_path, "leave", secret_value(settings.database.password))
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


def _log_for_serving() -> None:
    """kbot's own INFO lines to stderr; each answer as one JSON line (no message text unless configured)."""
    logging.getLogger("kbot").setLevel(logging.INFO)
    answers = logging.getLogger("kbot.answers")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    answers.addHandler(handler)
    answers.propagate = False
