"""Two writers on one LanceDB folder (two `kbot run --role worker` on one machine): Lance commits
optimistically, so the slower writer's commit conflicts; kbot retries it, and every write lands,
including the table's and the indexes' creation when both start on an empty folder."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from haystack.dataclasses import Document

from bot.rag.stores.lancedb import LanceDBDocumentStore


def test_two_writers_on_one_folder_both_land_every_write(tmp_path: Path) -> None:
    stores = [LanceDBDocumentStore(tmp_path / "store") for _ in range(2)]  # as two processes open it

    def work(writer: int) -> int:
        store = stores[writer]
        for batch in range(12):
            docs = [Document(id=f"w{writer}-b{batch}-{i}", content=f"writer {writer} batch {batch} line {i}",
                             meta={"scope": "global", "source": f"w{writer}.md"}) for i in range(3)]
            store.write_documents(docs)
            store.optimize()  # compaction and index updates: the commits that conflict most
        return writer

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(work, [0, 1])) == [0, 1]  # neither raised
    reader = LanceDBDocumentStore(tmp_path / "store")
    assert reader.count_documents() == 2 * 12 * 3
    assert {d.id for d in reader.filter_documents()} == {f"w{w}-b{b}-{i}" for w in (0, 1) for b in range(12)
                                                         for i in range(3)}


def test_an_append_that_meets_a_concurrent_table_creation_is_retried() -> None:
    """The message Lance 13 gives the writer whose append lost to the other writer creating the table
    (seen once in CI); a schema or data error is not retried."""
    from bot.rag.stores.commit_retry import is_commit_conflict

    lost = RuntimeError("lance error: Incompatible transaction: This Append transaction is incompatible with "
                        "concurrent transaction Overwrite at version 2., conflict_resolver.rs:1596:26")
    assert is_commit_conflict(lost)
    assert is_commit_conflict(RuntimeError("Retryable commit conflict for version 5"))
    assert not is_commit_conflict(RuntimeError("lance error: Invalid user input: schema mismatch"))


def test_a_table_is_created_under_the_folder_lock_and_keeps_what_another_process_wrote(tmp_path: Path) -> None:
    """Two processes creating the table at once could each commit a creation, the later one replacing
    rows the other had already appended; the creation waits for the lock file instead."""
    import threading

    import lancedb
    import pyarrow as pa
    from filelock import FileLock

    from bot.rag.stores.lancedb_rows import arrow_schema as _arrow_schema

    folder = tmp_path / "store"
    folder.mkdir()
    store = LanceDBDocumentStore(folder)
    done = threading.Event()
    doc = Document(id="mine", content="written by this process", meta={"scope": "global", "source": "a.md"})
    writer = threading.Thread(target=lambda: (store.write_documents([doc]), done.set()), daemon=True)
    with FileLock(folder / ".chunks.create-lock"):  # another process is creating the table
        writer.start()
        assert not done.wait(0.5), "the table was created while another process held the lock"
        assert "chunks" not in lancedb.connect(folder).list_tables().tables
        other = lancedb.connect(folder).create_table("chunks", schema=_arrow_schema(None))
        other.add(pa.Table.from_pylist([{"id": "theirs", "content": "written by the other process",
                                         "meta": json.dumps({"scope": "global", "source": "b.md"}),
                                         "scope": "global", "source": "b.md", "has_embedding": False}],
                                       schema=_arrow_schema(None)))
    writer.join(timeout=30)
    assert done.is_set()
    assert {d.id for d in LanceDBDocumentStore(folder).filter_documents()} == {"mine", "theirs"}
