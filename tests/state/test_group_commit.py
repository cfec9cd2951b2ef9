"""Group commit: turns remembered at the same moment share one transaction, and each caller returns
only once its own turn is stored; one bad turn fails only its own caller."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.core.messages import ThreadKey
from bot.state.engine import make_engine
from bot.state.group_commit import GroupCommit
from bot.state.memory import ThreadMemory

# These tests share the tables of the one test PostgreSQL database: under `pytest -n`, one worker
# runs them all, one after another.
pytestmark = pytest.mark.xdist_group("shared-postgres")

WRITERS = 20


def _engines(tmp_path: Path) -> list[Engine]:
    engines = [make_engine(None, tmp_path)]
    if os.environ.get("KBOT_TEST_POSTGRES_URL"):
        engines.append(make_engine(os.environ["KBOT_TEST_POSTGRES_URL"], tmp_path))
    return engines


def _slow_first_commit(engine: Engine) -> list[int]:
    """Counts commits; the first takes 0.3 s, long enough for every other writer to be waiting."""
    commits: list[int] = []

    def on_commit(_connection: object) -> None:
        commits.append(1)
        if len(commits) == 1:
            time.sleep(0.3)

    event.listen(engine, "commit", on_commit)
    return commits


def _remember(memory: ThreadMemory, key: ThreadKey, n: int, sources: list | None = None) -> None:
    memory.remember(key, question=f"question {n}", query=f"question {n}", answer=f"answer {n}",
                    sources=sources if sources is not None else [], mode="extractive", author="u")


@pytest.mark.parametrize("same_thread", [True, False], ids=["one-thread", "many-threads"])
def test_turns_remembered_together_share_a_transaction_and_all_land(tmp_path: Path, same_thread: bool) -> None:
    for engine in _engines(tmp_path):
        memory = ThreadMemory(engine, budget_chars=100_000)
        run = f"{engine.dialect.name}-{tmp_path.name}-{same_thread}"
        keys = [ThreadKey("telegram", "", run, "t" if same_thread else f"t{n}") for n in range(WRITERS)]
        commits = _slow_first_commit(engine)
        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(_remember, [memory] * WRITERS, keys, range(WRITERS)))
        stored = {turn.question for key in set(keys) for turn in memory.turns(key)}
        assert stored == {f"question {n}" for n in range(WRITERS)}
        # One transaction per turn would be 20 commits; the writers waiting on the first share one.
        assert len(commits) <= 3, len(commits)


def test_a_bad_turn_fails_only_its_own_caller(tmp_path: Path) -> None:
    engine = make_engine(None, tmp_path)
    memory = ThreadMemory(engine, budget_chars=100_000)
    _slow_first_commit(engine)
    key = ThreadKey("telegram", "", "bad", "t")

    def remember(n: int) -> str:
        try:
            _remember(memory, key, n, sources=[{"unserialisable": object()}] if n == 3 else None)
        except Exception as exc:
            return type(exc).__name__
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(remember, range(8)))
    assert outcomes[3] != "ok"
    assert outcomes[:3] + outcomes[4:] == ["ok"] * 7
    assert {turn.question for turn in memory.turns(key)} == {f"question {n}" for n in range(8) if n != 3}


def test_each_caller_returns_after_its_own_item_is_written() -> None:
    written: list[int] = []
    first_started, release = threading.Event(), threading.Event()

    def write_one(item: int) -> None:
        first_started.set()
        release.wait(5)
        written.append(item)

    group: GroupCommit[int] = GroupCommit(written.extend, write_one)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.submit, 0)
        assert first_started.wait(5)
        later = [pool.submit(group.submit, n) for n in (1, 2, 3)]
        time.sleep(0.2)
        assert not any(f.done() for f in later)  # queued behind the write in progress, not returned early
        release.set()
        for future in [first, *later]:
            future.result(timeout=5)
    assert sorted(written) == [0, 1, 2, 3]


class _Interrupted(BaseException):
    """Not an Exception: what a KeyboardInterrupt or a shutdown does to the thread writing a group."""


def test_a_group_writer_interrupted_mid_write_leaves_nobody_waiting() -> None:
    release = threading.Event()
    outcomes: dict[int, str] = {}

    def write_many(items: list[int]) -> None:
        raise _Interrupted

    group: GroupCommit[int] = GroupCommit(write_many, lambda item: release.wait(5))

    def submit(item: int) -> None:
        try:
            group.submit(item)
            outcomes[item] = "ok"
        except BaseException as exc:  # noqa: BLE001 (the interruption is what is measured)
            outcomes[item] = type(exc).__name__

    threads = [threading.Thread(target=submit, args=(n,), daemon=True) for n in range(3)]
    threads[0].start()
    time.sleep(0.1)
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.2)  # both wait behind the first write, and will be written together
    release.set()
    for thread in threads:
        thread.join(timeout=5)
    assert outcomes.get(0) == "ok"
    assert sorted(outcomes.get(n, "still waiting") for n in (1, 2)) == ["RuntimeError", "_Interrupted"]
