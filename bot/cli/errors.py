"""Exit codes, and which failures are the person's to fix (shown in one line) and which are bugs
(shown in full)."""

# Imports inside functions: SQLAlchemy and the stores are imported only to name an error that already
# happened.

from __future__ import annotations

import argparse

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class CliError(Exception):
    """A failure worded for one line on stderr."""


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1, refused before anything heavy is imported."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: give 1 or more")
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: give 0 to 65535")
    return value


def one_line(exc: BaseException) -> str | None:
    """A one-line message for an expected failure; None for anything that is a bug in kbot."""
    # Imported here, once a command has failed: a command that succeeds never needs them.
    from sqlalchemy.exc import DBAPIError

    from bot.rag.knowledge_base import EmbedderMismatch
    from bot.rag.stores.base import StoreUnavailable
    from bot.state.errors import DatabaseUnavailable

    if isinstance(exc, EmbedderMismatch | StoreUnavailable | DatabaseUnavailable):
        return str(exc)
    if isinstance(exc, DBAPIError):  # the database failed after start-up (a disk filled, a server went away)
        detail = " ".join(str(exc.orig or exc).split())[:160]
        return f"the database failed ({detail}): check that it is reachable and writable (database.url, data_dir)"
    if isinstance(exc, CliError | RuntimeError | ValueError | OSError):
        return " ".join(str(exc).split()) or exc.__class__.__name__
    return None
