"""`kbot` / `python -m bot`: the command line over the knowledge base. Each command group is a module
of this package that adds its own parsers; this one puts them together and runs the command chosen."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import access, archive, doctor, evaluate, first_run, gaps, knowledge, pipeline, serve, startup, talk
from bot.cli.errors import EXIT_CONFIG, EXIT_FAILED, one_line
from bot.config import ConfigError, Settings
from bot.core.start_errors import CannotStart
from bot.wiring import load_settings

GROUPS = (first_run, doctor, knowledge, talk, serve, access, pipeline, evaluate, gaps, archive)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="kbot",
        description="kbot: a self-hosted knowledge bot that answers from your team's documents.",
        epilog="Config: --config PATH, else $KBOT_CONFIG, else ./config.yaml.",
    )
    top.add_argument("--config", metavar="PATH", help="config file (default: $KBOT_CONFIG or ./config.yaml)")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.add_parsers(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    startup.small_pages_for_numpy()
    try:
        return _run_command(argv)
    finally:
        startup.skip_collection_at_exit()


def _run_command(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    startup.prepare(args.command)
    settings: Settings | None = None
    try:
        settings = load_settings(args.config)
        code: int = args.run(settings, args)
        return code
    except ConfigError as exc:
        print(f"kbot: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CannotStart as exc:  # a platform said no, or a port is taken: the setting to fix, in one line
        variable = settings.env_refs.get(exc.setting or "") if settings is not None else None
        print(f"kbot: {exc}" + (f" (it is read from ${variable})" if variable else ""), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("kbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = one_line(exc)
        if message is None:
            raise
        print(f"kbot: error: {message}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
