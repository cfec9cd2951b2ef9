"""Two writers on one LanceDB folder (two `kbot run --role worker` on one machine): Lance commits
optimistically, so the slower writer's commit conflicts; kbot retries it, and every write lands,
including the table's and the indexes' creation when both start on an empty folder."""

from __future__ import annotations

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
