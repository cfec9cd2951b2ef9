"""The fork server's side of tests/support/processes.py: imported once by the server (so every
child starts with kbot's heavy modules loaded), and `run`, which each forked child executes."""

from __future__ import annotations

import os
import sys
import traceback
import warnings

# What `kbot` commands import on their way to work: importing it here, once, is the point.
import alembic.command  # noqa: F401
import haystack  # noqa: F401
import lancedb  # noqa: F401
import sqlalchemy  # noqa: F401

import bot.app  # noqa: F401
import bot.rag.indexer  # noqa: F401
import bot.rag.knowledge_base  # noqa: F401
import bot.rag.stores.lancedb  # noqa: F401
import bot.run  # noqa: F401
import bot.state.db  # noqa: F401
from bot.cli.main import main as kbot_main

# LanceDB resets its async runtime in a forked child and warns that state mid-operation at fork time
# could deadlock: this server never opens a table, so there is none.
warnings.filterwarnings("ignore", message="lancedb fork support is experimental")


def run(args: list[str], cwd: str, env: dict[str, str], stdin: str | None, stdout: str, stderr: str) -> None:
    """`kbot ARGS` in this (forked) process: its folder, environment and standard streams, then
    exit with kbot's code (1 and a traceback on stderr for an uncaught exception, as Python does)."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path, flags in ((0, stdin or os.devnull, os.O_RDONLY),
                            (1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 (the process's own stream)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.argv = ["kbot", *args]
    try:
        code = kbot_main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # what the interpreter would print before exiting with 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
