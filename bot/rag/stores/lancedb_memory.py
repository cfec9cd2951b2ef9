"""A copy of the LanceDB table in memory, which small and mid-sized tables are searched from (vectors
as one matrix, a BM25 index beside it): re-read when the table's version changes, reloaded beside the
queries rather than in front of them, and never searched while it reloads (LanceDB answers then)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.rag.stores.chunk_cache import ChunkCache, scopes_of
from bot.rag.stores.keyword_index import Analyzer, KeywordIndex
from bot.rag.stores.lancedb_table import VERSION_RECHECK_S, LanceTable

log = logging.getLogger("bot.rag.stores.lancedb")

Background = Callable[[Callable[[], None], str], None]  # runs work beside the queries: (work, thread name)


def daemon_thread(work: Callable[[], None], name: str) -> None:
    """Searches never wait for it, and a process that exits does not wait for it either."""
    threading.Thread(target=work, name=name, daemon=True).start()


class MemoryCopy:
    def __init__(self, table: LanceTable, cache_rows: int, keyword_rows: int, background: Background) -> None:
        self.table = table
        # Tables up to this many chunks are searched from the copy (about 2.5 KB a chunk at 384 dims:
        # vector, text, metadata); larger ones are searched by LanceDB alone.
        self.cache_rows = cache_rows
        # Copies up to this many chunks also get a BM25 index (built in the background, about 0.4 s at
        # 10k chunks on two cores): larger ones keep LanceDB's full-text search.
        self.keyword_rows = keyword_rows
        self._background = background
        self.cache: ChunkCache | None = None
        self.refreshing = False  # a newer version's copy is being loaded in the background
        self._analyzer: Analyzer | None = None
        self._version_read_at = -math.inf  # when `for_query` last asked LanceDB for the table version
        self._changes_seen = table.changes
        self._lock = threading.RLock()

    def forget(self) -> None:
        """The table was recreated: a new table restarts its version numbers."""
        with self._lock:
            self.cache = None

    def for_query(self, table: Any, filters: dict[str, Any] | None) -> tuple[ChunkCache | None, list[str] | None]:
        """The copy and the scopes to search, when this query can be answered from memory."""
        if table is None or not self.table.embedding_dim or self.table.dim_conflict:
            return None, None
        scopes = scopes_of(filters)
        if scopes is False:
            return None, None
        with self._lock:
            if self.refreshing:
                return None, None  # LanceDB answers, from the newest version, while the copy reloads
            now = time.monotonic()
            fresh = self._changes_seen == self.table.changes and now - self._version_read_at < VERSION_RECHECK_S
            if self.cache is not None and fresh:
                return self.cache, scopes
            version = table.version  # about 1 ms (a round trip into LanceDB's runtime): not on every leg
            self._version_read_at, self._changes_seen = now, self.table.changes
            if self.cache is None or self.cache.version != version:
                previous, self.cache = self.cache, None
                if table.count_rows() > self.cache_rows:
                    return None, None
                if previous is None:
                    self.cache = ChunkCache.load(table, version, self.table.embedding_dim)
                else:
                    self._refresh_in_background(table, version, keep_keyword=previous.keyword_wanted)
                    return None, None
        return self.cache, scopes

    def _refresh_in_background(self, table: Any, version: int, keep_keyword: bool) -> None:
        """Reload the copy of a table that changed, beside the queries: at 100k chunks a reload takes
        over a second, and the first question after every upload waited for it. Called with the lock
        held; once the copy is in, the next query reads the version again, so a write made meanwhile
        is never missed."""
        self.refreshing = True

        dim = self.table.embedding_dim
        assert dim, "only a table with vectors has an in-memory copy (for_query checks)"

        def refresh() -> None:
            try:
                cache = ChunkCache.load(table, version, dim)
            except Exception:
                log.warning("could not reload the in-memory copy of the table; the next query tries again",
                            exc_info=True)
                cache = None
            with self._lock:
                self.refreshing, self._version_read_at = False, -math.inf
                if cache is None or not self.table.is_current(table):  # failed, or the table was recreated
                    return
                self.cache = cache
                if keep_keyword:  # a process that asked for the index keeps one
                    self._start_keyword_build(cache)

        try:
            self._background(refresh, "kbot-chunk-cache")
        except Exception:  # no thread to be had: the next query loads the copy itself, as before
            log.warning("could not start reloading the in-memory copy in the background", exc_info=True)
            self.refreshing = False

    def keyword_ready(self, cache: ChunkCache) -> bool:
        """Whether `cache` answers keyword queries itself. Its index is built in the background when a
        second keyword query reaches the same table version, and from then on as soon as a write brings
        a new version: a one-shot command (`kbot search`) never pays for it, a running bot pays once
        per change and no query waits for it."""
        if cache.keyword is not None:
            return True
        if len(cache.doc_ids) > self.keyword_rows:
            return False
        with self._lock:
            cache.keyword_asks += 1
            if cache.keyword_asks >= 2:
                self._start_keyword_build(cache)
        return False

    def _start_keyword_build(self, cache: ChunkCache) -> None:
        """Build `cache`'s BM25 index in a background thread, once, where the table is small enough.
        Called with the lock held."""
        if cache.keyword_wanted:
            return
        cache.keyword_wanted = True
        if len(cache.doc_ids) <= self.keyword_rows:
            self._background(lambda: self.build_keyword(cache), "kbot-bm25")

    def build_keyword(self, cache: ChunkCache) -> None:
        with self._lock:
            analyzer = self._analyzer = self._analyzer or Analyzer()
        cache.keyword = KeywordIndex.build(cache.content, analyzer)

    def build_keyword_now(self, table: Any) -> bool:
        """The BM25 index for the current table version, built now; False where the table is too large
        for it or not searched from memory."""
        cache, _ = self.for_query(table, None)
        if cache is None or len(cache.doc_ids) > self.keyword_rows:
            return False
        cache.keyword_wanted = True  # and kept across writes
        if cache.keyword is None:
            self.build_keyword(cache)
        return True
