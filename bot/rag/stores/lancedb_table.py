"""The LanceDB table on disk: opened lazily, created once under a lock every kbot process takes, its
vector dimension checked, its indexes made, and recent writes folded into them on a schedule."""

# Imports inside functions: lancedb loads when the table is first opened.

from __future__ import annotations

import functools
import logging
import threading
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from filelock import FileLock

from bot.rag.stores.commit_retry import retry_conflicts
from bot.rag.stores.lancedb_rows import arrow_schema

VERSION_RECHECK_S = 0.5
# Each commit adds a fragment that lookups scan beside the indexes until `optimize` folds it in, so
# unfolded, every file of a long `kbot ingest` cost more than the last (README "How the embedded store
# searches"). Folding every this many commits keeps a file's cost flat.
FOLD_EVERY_COMMITS = 200
log = logging.getLogger("bot.rag.stores.lancedb")


class LanceTable:
    """One table of a LanceDB folder. `changes` counts this process's writes and folds, so a reader
    of the table (the copy in memory) knows to read its version again."""

    def __init__(self, path: str | Path, table_name: str, embedding_dim: int | None,
                 fold_every_commits: int = FOLD_EVERY_COMMITS) -> None:
        self.path = str(path)
        self.table_name = table_name
        self.embedding_dim = embedding_dim
        self.fold_every_commits = fold_every_commits
        self.lock = threading.RLock()  # writes, and the table's opening and recreation
        self.changes = 0
        self.dim_conflict: str | None = None
        self._commits_since_fold = 0  # this process's commits: others fold their own
        self._indexes_ready = ""  # which open table is known to have its indexes
        self._db: Any = None
        self._table: Any = None

    def connect(self) -> Any:
        if self._db is None:
            import lancedb  # a second of imports: only once the store is used

            Path(self.path).mkdir(parents=True, exist_ok=True)
            # Another process (`kbot ingest` beside `kbot run`) may write: LanceDB looks for new versions
            # every half second and the copy in memory asks it every half second, so they show within a second.
            self._db = lancedb.connect(self.path, read_consistency_interval=timedelta(seconds=VERSION_RECHECK_S))
        return self._db

    def open(self, create: bool = False) -> Any:
        """The table; None where it does not exist yet (and `create` is not asked)."""
        with self.lock:
            if self._table is not None:
                return self._table
            db = self.connect()
            if self.table_name in db.list_tables().tables:
                self._table = db.open_table(self.table_name)
                self._check_dim(self._table.schema)
            elif create:
                self._table = self._create(db)
                self._check_dim(self._table.schema)
            return self._table

    def is_current(self, table: Any) -> bool:
        """Whether `table` is still the one this store reads (a recreation replaces it)."""
        return table is self._table

    def drop(self) -> None:
        """Delete the table; the next write creates it afresh."""
        with self.lock:
            db = self.connect()
            if self.table_name in db.list_tables().tables:
                db.drop_table(self.table_name)
            self._table = None
            self.changed()

    def _create(self, db: Any) -> Any:
        """The table, created under a lock file that every kbot process on this folder takes: two that
        create it at once would each commit a creation, and Lance lets the second one (an Overwrite)
        replace whatever the first had appended in between."""
        with FileLock(Path(self.path) / f".{self.table_name}.create-lock"):
            if self.table_name in db.list_tables().tables:  # made while this process waited
                return db.open_table(self.table_name)
            return db.create_table(self.table_name, schema=arrow_schema(self.embedding_dim), exist_ok=True)

    def _check_dim(self, schema: pa.Schema) -> None:
        """Adopt the table's dimension; remember a conflict so writes and vector search refuse it."""
        stored = schema.field("embedding").type.list_size if "embedding" in schema.names else None
        if self.embedding_dim is not None and stored != self.embedding_dim:
            self.dim_conflict = (
                f"table {self.table_name!r} holds {stored or 'no'}-dimension vectors, "
                f"not {self.embedding_dim}; run `kbot reindex`"
            )
        self.embedding_dim = stored

    def refuse_dim_conflict(self) -> None:
        if self.dim_conflict:
            raise ValueError(self.dim_conflict)

    def changed(self) -> None:
        self.changes += 1

    def wrote(self, commits: int = 1) -> None:
        """This process changed the table."""
        self.changed()
        self._commits_since_fold += commits

    def fold_if_due(self) -> None:
        """After enough commits, fold the new fragments into the indexes. Called once the write has
        let go of the lock, so searches in this process do not wait for the fold."""
        if not self.fold_every_commits or self._commits_since_fold < self.fold_every_commits:
            return
        try:
            self.optimize()
        except Exception:  # the write itself is committed; a later fold or `kbot ingest` catches up
            log.warning("could not fold recent writes into the search indexes", exc_info=True)

    def ensure_indexes(self, table: Any) -> None:
        """Full-text on content; scalar indexes on the columns every query and replace filters on."""
        if self._indexes_ready == table.name + str(id(table)):
            return
        present = {tuple(ix.columns) for ix in table.list_indices()}
        if ("content",) not in present or ("scope",) not in present:
            from lancedb.index import FTS, Bitmap, BTree  # once per table, where an index is missing

            wanted = {"content": FTS(with_position=False), "scope": Bitmap(), "source": BTree(), "id": BTree()}
            for column, config in wanted.items():
                if (column,) not in present:
                    retry_conflicts(functools.partial(_create_index, table, column, config), f"index {column}")
        self._indexes_ready = table.name + str(id(table))

    def unindexed_rows(self) -> int:
        """Rows the full-text index does not cover yet (searched by a slower scan until `optimize`)."""
        table = self.open()
        if table is None:
            return 0
        names = [ix.name for ix in table.list_indices() if list(ix.columns) == ["content"]]
        return int(table.index_stats(names[0]).num_unindexed_rows) if names else int(table.count_rows())

    def optimize(self) -> None:
        """Fold recent writes into the indexes (new rows are searchable before this, just slower)."""
        table = self.open()
        if table is not None and table.count_rows():
            self.ensure_indexes(table)
            retry_conflicts(table.optimize, "optimize")
        self._folded()

    def _folded(self) -> None:
        self.changed()
        self._commits_since_fold = 0

    def purge(self) -> None:
        """Make deleted rows unrecoverable: rewrite the files that held them and drop old versions
        (LanceDB otherwise keeps every version for 7 days, deleted text included)."""
        table = self.open()
        if table is not None:
            with warnings.catch_warnings():  # chosen: a search in flight on an old version fails once; deletes are rare
                warnings.filterwarnings("ignore", message=r"optimize\(cleanup_older_than=0\)")
                table.optimize(cleanup_older_than=timedelta(0), delete_unverified=True)
            self._folded()


def _create_index(table: Any, column: str, config: Any) -> None:
    """Unless another process made it meanwhile (the conflict that sends us here again)."""
    if (column,) not in {tuple(ix.columns) for ix in table.list_indices()}:
        table.create_index(column, config=config, replace=True)
