"""`kbot export FILE` and `kbot import FILE`: the argument parsing and the terminal around bot/archive/archive.py."""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK
from bot.cli.output import LateBar
from bot.config import Settings


def add_parsers(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="write the whole knowledge base (chunks, vectors, metadata) to one portable archive",
        description="A .tar.gz that `kbot import` loads into any configured store (LanceDB or Weaviate) "
                    "without re-embedding: to move stores, back up, or seed a new deployment.")
    export.add_argument("file", type=Path, help="the archive to write, e.g. kbot-backup.tar.gz")
    export.add_argument("--with-uploads", action="store_true",
                        help="also the job history and the uploaded files kept for re-indexing")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.set_defaults(run=cmd_export)
    load = commands.add_parser(
        "import", help="load an archive made by `kbot export` into the configured store",
        description="Chunks already in the store are skipped, so importing twice writes nothing new. An "
                    "archive made with another embedder is refused (match `embedder`, then `kbot reindex`).")
    load.add_argument("file", type=Path, help="an archive made by `kbot export`")
    load.set_defaults(run=cmd_import)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.archive.archive import export_archive

    if args.file.is_dir():
        print(f"kbot: {args.file} is a folder: name the archive's file, e.g. {args.file / 'kbot-backup.tar.gz'}",
              file=sys.stderr)
        return EXIT_FAILED
    if args.file.exists() and not args.force:
        print(f"kbot: {args.file} exists: choose another name, or pass --force to replace it", file=sys.stderr)
        return EXIT_FAILED
    if not args.file.parent.is_dir():
        print(f"kbot: no folder {args.file.parent} to write the archive in", file=sys.stderr)
        return EXIT_FAILED
    app = App(settings)
    started, bar, uploads = time.monotonic(), LateBar("chunk"), LateBar("upload")

    def upload_step(done: int, total: int) -> None:  # the chunks are written: their bar gives way
        bar.close()
        uploads(done, total)

    try:
        chunks, jobs = export_archive(app.knowledge_base, args.file, engine=app.engine if args.with_uploads else None,
                                      on_progress=bar, on_upload=upload_step)
    except OSError as exc:  # a read-only folder, a full disk: nothing is left behind (see export_archive)
        print(f"kbot: cannot write {args.file}: {exc.strerror or exc.__class__.__name__}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        bar.close()
        uploads.close()
    with_jobs = f" and {jobs} jobs with their uploads" if args.with_uploads else ""
    print(f"exported {chunks} chunks{with_jobs} ({app.knowledge_base.fingerprint.describe()}) to {args.file} "
          f"in {time.monotonic() - started:.1f} s")
    return EXIT_OK


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.archive.archive import import_archive

    app = App(settings)
    started, bar = time.monotonic(), LateBar("chunk")
    try:
        summary = import_archive(app.knowledge_base, args.file, engine=app.engine, on_progress=bar,
                                 max_upload_bytes=int(settings.knowledge.max_file_mb * 1_000_000))
    finally:
        bar.close()
    print(f"imported {summary.added} chunks into {app.knowledge_base.backend.describe()} "
          f"({summary.present} already there), {summary.jobs} jobs, in {time.monotonic() - started:.1f} s")
    if summary.kept:
        names = ", ".join(summary.kept[:5]) + (f" and {len(summary.kept) - 5} more" if len(summary.kept) > 5 else "")
        print(f"kept as they are here, in another version than the archive's: {names}. To take the archive's "
              "version of one, `kbot delete` it and import again")
    return EXIT_OK
