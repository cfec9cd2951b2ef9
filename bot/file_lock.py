"""A lock several processes on one machine share through a file: the SQLite migration and the first
creation of a LanceDB table, where two processes started together must not both do the work."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Held until the block ends (or the process dies: the kernel drops an flock with its holder)."""
    try:
        import fcntl
    except ImportError:  # Windows: one process at a time is the operator's job there
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
