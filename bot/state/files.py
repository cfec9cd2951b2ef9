"""kbot's folders and files made private to its user. Plain file-system calls, apart from the database
code, so that a command that only reads the knowledge store (`kbot search`) does not import SQLAlchemy."""

from __future__ import annotations

import contextlib
from pathlib import Path

from bot.state.errors import DatabaseUnavailable


def private_folder(path: Path) -> Path:
    """A folder of kbot's own, created readable by kbot's user alone (0700, whatever the umask):
    data_dir holds the questions people asked, their uploads and the knowledge base."""
    if not path.is_dir():
        try:
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot create the data folder {path} ({exc.strerror or exc}): set data_dir "
                                      "to a writable folder") from None
    return path


def private_file(path: Path) -> None:
    """Readable and writable by kbot's user alone (0600), whatever the umask it was created under."""
    with contextlib.suppress(OSError):  # not ours to change (another user's file): left as it is
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def readable_by_others(path: Path) -> bool:
    """Whether users other than kbot's can read or enter this folder (group or world bits set)."""
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False
