"""Durable indexing jobs on a real database and store: progress, failures, one claim each, crash and resume."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.app import build_indexer, build_knowledge_base
from bot.config import Settings
from bot.core.jobs import JobView, ProgressTarget
from bot.jobs.queue import JobQueue
from bot.jobs.runner import JobRunner
from bot.rag.knowledge_base import source_filter
from bot.state.engine import make_engine
from tests.fakes.openai_server import serve_openai
from tests.support.paths import REPO
from tests.support.samples import make_encrypted_pdf

DOC = "# Travel\n\n" + " ".join(f"Rule {i}: book trains before planes for trips under five hours." for i in range(120))


def _queue(settings: Settings, **options: float) -> JobQueue:
    kb = build_knowledge_base(settings)
    return JobQueue(make_engine(None, settings.data_path), build_indexer(settings, kb), **options)  # type: ignore[arg-type]


async def _run_until(runner: JobRunner, done: Callable[[], bool], timeout: float = 60) -> None:
    await runner.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await runner.stop()
    assert done(), "the job did not end in time"


def test_a_job_reports_progress_then_one_completion(make_settings, tmp_path: Path) -> None:
    settings = make_settings()
    queue = _queue(settings)
    events: list[JobView] = []

    async def report(view: JobView) -> None:
        events.append(view)

    target = ProgressTarget("slack", "T1", "C1", "1700000001.000100")
    # A document already there: the store and its full-text index exist before the job writes.
    queue.indexer.index_bytes(b"# Expenses\n\nReceipts go to finance within a week.", "markdown", "expenses.md")
    job = queue.enqueue_file(DOC.encode(), "travel.md", "slack:T1", "U1", target)
    asyncio.run(_run_until(JobRunner(queue, report, poll_s=0.1), lambda: any(e.state == "done" for e in events)))
    ended = [e for e in events if e.state in ("done", "failed")]
    assert len(ended) == 1 and ended[0].describe().startswith("✓ travel.md indexed: ")
    assert ended[0].chunks == len(queue.indexer.kb.chunk_metadata(source_filter("travel.md", ["slack:T1"]))) > 1
    assert any(e.stage in ("writing", "embedding") for e in events if e.state == "running")
    assert events[0].target == target
    assert [j.id for j in queue.recent({"slack:T1"})] == [job] and queue.recent({"slack:T2"}) == []
    assert not queue.take_notification(job)  # it was taken by the runner, once
    # The new chunks were folded into the full-text index, so keyword search needs no scan beside it.
    assert queue.indexer.kb.unindexed_rows() == 0


def test_an_edited_upload_says_how_much_of_it_was_unchanged(make_settings) -> None:
    settings = make_settings(embedder={"kind": "local"})
    queue = _queue(settings)
    events: list[JobView] = []

    async def report(view: JobView) -> None:
        events.append(view)

    parts = {f"Part {i}": " ".join(f"Rule {j} of part {i} applies to trips of {i * 10 + j} days." for j in range(40))
             for i in range(4)}

    def handbook() -> bytes:
        return ("# Travel\n\n" + "\n\n".join(f"## {t}\n\n{body}" for t, body in parts.items())).encode()

    target = ProgressTarget("slack", "T1", "C1", "1700000001.000100")
    runner = JobRunner(queue, report, poll_s=0.1)
    first = queue.enqueue_file(handbook(), "travel.md", "slack:T1", "U1", target)
    asyncio.run(_run_until(runner, lambda: any(e.state == "done" for e in events)))
    parts["Part 1"] = "Trains are booked by the travel desk."
    second = queue.enqueue_file(handbook(), "travel.md", "slack:T1", "U1", target)
    asyncio.run(_run_until(JobRunner(queue, report, poll_s=0.1),
                           lambda: sum(e.state == "done" for e in events) == 2))
    done = {e.id: e for e in events if e.state == "done"}
    assert done[first].reused == 0 and "unchanged" not in done[first].describe()
    assert done[second].reused == done[second].chunks - 1 > 0
    assert f"{done[second].chunks} chunks ({done[second].reused} unchanged since the last version)" in (
        done[second].describe())


def test_queued_jobs_run_back_to_back_and_are_folded_into_the_index_once_drained(make_settings) -> None:
    """A finishing job starts the next one at once (not at the next poll, an hour away here); the
    full-text index is brought up to date when the queue is empty, not after every job."""
    queue = _queue(make_settings())
    jobs = [queue.enqueue_file(f"# Note {i}\n\nThe note number {i} is about bikes.".encode(), f"n{i}.md",
                               "global", "U1", None) for i in range(4)]

    async def ignore(_view: JobView) -> None:
        return None

    asyncio.run(_run_until(JobRunner(queue, ignore, poll_s=3600),
                           lambda: all(queue.get(j).state == "done" for j in jobs)))  # type: ignore[union-attr]
    assert queue.waiting() == 0 and queue.indexer.kb.backend.document_store.unindexed_rows() == 0
    assert {d.meta["source"] for d in queue.indexer.kb.search("bikes", ["global"], top_k=10)} == {
        f"n{i}.md" for i in range(4)}


def test_a_bad_file_fails_with_its_reason_and_touches_nothing(make_settings, tmp_path: Path) -> None:
    settings = make_settings()
    queue = _queue(settings)
    good = queue.enqueue_file(DOC.encode(), "travel.md", "global", None, None)
    events: list[JobView] = []

    async def report(view: JobView) -> None:
        events.append(view)

    asyncio.run(_run_until(JobRunner(queue, report, poll_s=0.1), lambda: queue.get(good).state == "done"))
    before = queue.indexer.kb.count_chunks()
    bad = queue.enqueue_file(make_encrypted_pdf(tmp_path / "locked.pdf").read_bytes(), "locked.pdf", "global",
                             None, None)
    asyncio.run(_run_until(JobRunner(queue, report, poll_s=0.1), lambda: queue.get(bad).state == "failed"))
    failed = queue.get(bad)
    assert failed is not None and "password-protected" in (failed.error or "")
    assert failed.describe().startswith("✗ locked.pdf was not indexed: password-protected")
    assert queue.indexer.kb.count_chunks() == before


def test_two_processes_never_claim_the_same_job(make_settings) -> None:
    settings = make_settings()
    first, second = _queue(settings), _queue(settings)
    ids = {first.enqueue_url(f"https://example.com/{i}", "global", None, None) for i in range(10)}
    claimed: list[int] = []
    for _ in range(12):
        for queue in (first, second):
            job = queue.claim()
            if job is not None:
                claimed.append(job.id)
    assert sorted(claimed) == sorted(ids)


def test_a_job_whose_process_was_killed_is_finished_once_by_the_next(make_settings, tmp_path: Path) -> None:
    with serve_openai() as fake:
        fake.before_embedding = lambda: time.sleep(0.5)  # slow enough to kill the worker mid-embedding
        settings = make_settings(embedder={"kind": "openai", "base_url": fake.base_url, "api_key": "test",
                                           "batch_size": 4})
        queue = _queue(settings, stale_after_s=1)
        job = queue.enqueue_file(DOC.encode(), "travel.md", "global", "U1", None)
        log = (tmp_path / "child.log").open("w")
        child = subprocess.Popen([sys.executable, "-m", "tests.support.jobs_child", str(tmp_path), fake.base_url],
                                 stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                view = queue.get(job)
                # Mid-embedding: the first of the three slow embedding requests has been answered.
                if view is not None and view.stage == "embedding" and fake.embedding_batches:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(f"the worker never reached embedding: {queue.get(job)}; "
                                     f"{(tmp_path / 'child.log').read_text()[-3000:]}")
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        assert queue.get(job).state == "running"  # type: ignore[union-attr]  # and nobody is running it
        fake.before_embedding = None
        events: list[JobView] = []

        async def report(view: JobView) -> None:
            events.append(view)

        asyncio.run(_run_until(JobRunner(queue, report, poll_s=0.2), lambda: queue.get(job).state == "done"))
        ended = queue.get(job)
        assert ended is not None and ended.attempts == 2
        stored = queue.indexer.kb.chunk_metadata(source_filter("travel.md", ["global"]))
        assert ended.chunks == len(stored) == stored[0][1]["chunk_count"]  # every chunk once, none twice
        assert all(meta.get("embedded", True) for _, meta in stored)
        assert [e.state for e in events].count("done") == 1
        assert "✓ travel.md" not in (child.stdout.read() if child.stdout else "")  # the killed one never finished


def test_resync_picks_up_new_files_and_changed_pages(make_settings, tmp_path: Path) -> None:
    from bot.jobs.resync import Resync
    from tests.fakes.http_site import serve as serve_site

    settings = make_settings(knowledge={"paths": ["kdocs"]})
    (tmp_path / "kdocs").mkdir()
    (tmp_path / "kdocs" / "a.md").write_text("# A\n\nThe alpha team owns billing.")
    pages = {"/page.html": (200, "text/html", b"<html><body><h1>Old</h1><p>Lunch is at noon.</p></body></html>")}
    with serve_site(pages) as site:
        queue = _queue(settings)
        queue.enqueue_url(f"{site}/page.html", "slack:T1", "U1", None)
        events: list[JobView] = []

        async def report(view: JobView) -> None:
            events.append(view)

        resync = Resync(queue.indexer, queue, settings.knowledge_paths, settings.root)
        runner = JobRunner(queue, report, poll_s=0.1, resync=resync, resync_s=0.3)
        kb = queue.indexer.kb

        def texts(scope: str) -> str:
            return " ".join(d.content or "" for d in kb.search("lunch billing finance", [scope], top_k=10))

        async def scenario() -> None:
            await runner.start()
            try:
                await asyncio.sleep(0.1)
                pages["/page.html"] = (200, "text/html",
                                       b"<html><body><h1>New</h1><p>Lunch is at one o'clock.</p></body></html>")
                (tmp_path / "kdocs" / "b.md").write_text("# B\n\nThe finance team owns invoices.")
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not (
                        "one o'clock" in texts("slack:T1") and "finance team" in texts("global")):
                    await asyncio.sleep(0.1)
            finally:
                await runner.stop()

        asyncio.run(scenario())
        assert "one o'clock" in texts("slack:T1") and "noon" not in texts("slack:T1")
        assert "finance team" in texts("global") and "alpha team" in texts("global")
