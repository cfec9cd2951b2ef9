"""`kbot` / `python -m bot`: the command line over the knowledge base. Each command group is a module
of this package that adds its own parsers; this one puts them together and runs the command chosen."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import access, archive, doctor, evaluate, first_run, gaps, knowledge, pipeline, serve, startup, talk
from bot.cli.errors import EXIT_CONFIG, EXIT_FAILED, one_line
from bot.config import ConfigError, Settings
from bot.config.settings import config_path
from bot.core.start_errors import CannotStart
from bot.wiring import load_settings, parse_settings

# Commands that write or check the config themselves say which one they use.
QUIET_ABOUT_DEFAULTS = frozenset({"init", "doctor"})
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
    top = parser()
    args, unknown = top.parse_known_args(argv)
    if unknown:
        return _unknown_options(top, args.command, unknown)
    startup.prepare(args.command)
    settings: Settings | None = None
    try:
        settings = _settings_for(args.command, args.config)
        if args.command not in QUIET_ABOUT_DEFAULTS:
            _say_which_config(settings, args.config)
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


def _settings_for(command: str, explicit: str | None) -> Settings:
    """The config, validated; `kbot init` writes a new one, so a broken old one must not stop it."""
    try:
        return load_settings(explicit)
    except ConfigError:
        if command != "init":
            raise
        return parse_settings({}, root=Path.cwd())


def _unknown_options(top: argparse.ArgumentParser, command: str, unknown: list[str]) -> int:
    """argparse's "unrecognized arguments" shows the top-level usage; this names the command's
    nearest option instead, before anything heavy is imported."""
    chosen = _subparser(top, command)
    known = [option for action in chosen._actions for option in action.option_strings]
    word = unknown[0].split("=", 1)[0]
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    hint = f": did you mean {close[0]}?" if close else f" (kbot {command} --help lists its options)"
    print(f"kbot {command}: unknown option {word}{hint}", file=sys.stderr)
    return EXIT_CONFIG


def _subparser(top: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in top._actions:  # argparse offers no public way to reach a subcommand's parser
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            chosen: argparse.ArgumentParser = action.choices[command]
            return chosen
    return top


def _say_which_config(settings: Settings, explicit: str | None) -> None:
    """No config file here: one dim line says so, and which data_dir is used (never silently)."""
    if config_path(explicit).exists():
        return
    dim, plain = ("\033[2m", "\033[0m") if sys.stderr.isatty() else ("", "")
    print(f"{dim}kbot: no config.yaml here: the built-in defaults, data_dir {settings.data_path} "
          f"(kbot init writes a config){plain}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
