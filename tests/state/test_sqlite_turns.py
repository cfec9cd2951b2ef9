"""SQLite transactions in one process take turns on a lock (bot/state/sqlite_turns.py), and a turn that is
never ended by a commit or rollback is given back when its connection returns to the pool."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.state.sqlite_turns import take_turns


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.execute(text("PRAGMA journal_mode=WAL"))
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    take_turns(engine, wait_s=60)
    return engine


def _read_in_thread(engine) -> tuple[threading.Thread, threading.Event]:  # type: ignore[no-untyped-def]
    done = threading.Event()

    def read() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM t")).scalar()
        done.set()

    thread = threading.Thread(target=read)
    thread.start()
    return thread, done


def test_a_transaction_waits_for_the_one_before_it_to_end(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.connect() as first:
        first.begin()
        first.execute(text("INSERT INTO t VALUES (1)"))
        thread, done = _read_in_thread(engine)
        # WAL would let this reader in beside the writer; taking turns keeps it waiting.
        assert not done.wait(0.5)
        first.commit()
        thread.join(10)
        assert done.is_set()
    # The same thread opening a second connection inside its own turn is not stopped by itself.
    with engine.connect() as reopened, reopened.begin(), engine.connect() as nested:
        assert nested.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_a_turn_left_open_is_given_back_with_its_connection(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    connection = engine.connect()
    transaction = connection.begin()
    connection.invalidate()  # ends the DBAPI connection mid-transaction, as a failed statement can
    transaction.rollback()  # what SQLAlchemy asks for next (a Session does it on close)
    connection.close()
    thread, done = _read_in_thread(engine)
    thread.join(10)
    assert done.is_set()  # well inside wait_s (60 s): the turn came back, not the timeout
