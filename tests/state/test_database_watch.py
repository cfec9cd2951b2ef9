"""What counts as the database being away: a stopped server, a lock, a read-only file (not a bug in a query)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.state.database_watch import is_outage
from tests.fakes.http_site import closed_port_url


def _failure(url: str, statement: str, **connect_args: object) -> BaseException:
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except Exception as exc:  # noqa: BLE001 (the failure is what is under test)
        return exc
    finally:
        engine.dispose()
    raise AssertionError("no failure")


def test_read_only_and_unreachable_are_outages_and_a_bad_query_is_not(tmp_path: Path) -> None:
    path = tmp_path / "kbot.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER)").connection.commit()
    read_only = _failure(f"sqlite:///file:{path}?mode=ro&uri=true", "INSERT INTO t VALUES (1)")
    assert isinstance(read_only, OperationalError) and "readonly" in str(read_only) and is_outage(read_only)
    port = closed_port_url().rsplit(":", 1)[1].rstrip("/")
    refused = _failure(f"postgresql+psycopg://kbot:pw@127.0.0.1:{port}/kbot", "SELECT 1", connect_timeout=3)
    assert is_outage(refused)
    bad = _failure(f"sqlite:///{path}", "SELECT nothing FROM nowhere")  # OperationalError too, in SQLite
    assert isinstance(bad, OperationalError | ProgrammingError) and not is_outage(bad)
