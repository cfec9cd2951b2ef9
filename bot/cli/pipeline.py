"""`kbot pipeline show`: the answer and indexing pipelines as Haystack YAML, a starting point for
`answer.pipeline` and `knowledge.pipeline`."""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.errors import EXIT_OK
from bot.config import Settings


def add_parsers(commands: Any) -> None:
    pipeline = commands.add_parser("pipeline", help="the answer and indexing pipelines as Haystack YAML")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="show")
    show = pipeline_commands.add_parser(
        "show", help="print a pipeline (the configured one: answer.pipeline / knowledge.pipeline, else the default)")
    show.add_argument("flow", nargs="?", choices=["answer", "indexing"], default=None,
                      help="one of them (default: both, as two YAML documents); save one as a starting point "
                           "for answer.pipeline or knowledge.pipeline")
    pipeline.set_defaults(run=cmd_pipeline)


def cmd_pipeline(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App  # the pipelines are built, not only read: `kbot --help` must not do that

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
