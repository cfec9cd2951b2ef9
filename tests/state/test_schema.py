"""Promise: the schema upgrades. A new database, one made before migrations existed and one made by an
older revision all reach the head with their rows; processes starting together on a new database
all start (on SQLite and PostgreSQL); a database from a newer kbot, or an old one with
`database.auto_migrate` off, is refused with what to run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from bot.cli.main import main
from bot.core.messages import ThreadKey
from bot.state.db import Base
from bot.state.engine import make_engine
from bot.state.errors import DatabaseUnavailable
from bot.state.memory import ThreadMemory
from bot.state.schema import HEAD, REVISIONS, alembic_config, revision
from tests.support.paths import REPO, TEST_DATA

OLD_SCHEMA = TEST_DATA


def _alembic(engine: Engine, target: str) -> None:
    """Alembic itself, revision by revision (kbot skips them for a new database)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), target)


def _differences(engine: Engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def _url(which: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if which == "postgresql":
        return request.getfixturevalue("postgres_database")
    return f"sqlite:///{tmp_path / 'kbot.db'}"


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return revision(connection)


def test_the_revision_list_is_alembics_history() -> None:
    history = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    assert tuple(reversed(history)) == REVISIONS


@pytest.mark.parametrize("which", ["sqlite", "postgresql"])
def test_the_migrations_build_exactly_the_models_schema(which: str, tmp_path: Path, request) -> None:
    engine = create_engine(_url(which, tmp_path, request))
    _alembic(engine, "head")
    assert _differences(engine) == []
    fresh = make_engine(None if which == "sqlite" else request.getfixturevalue("postgres_database"), tmp_path / "b")
    assert _revision(fresh) == HEAD and _differences(fresh) == []


@pytest.mark.parametrize("which", ["sqlite", "postgresql"])
def test_a_database_made_before_migrations_is_upgraded_with_its_rows(which: str, tmp_path: Path, request) -> None:
    url = _url(which, tmp_path, request)
    old = create_engine(url)
    with old.begin() as connection:
        for statement in (OLD_SCHEMA / f"schema_before_migrations.{which}.sql").read_text().split(";"):
            if statement.strip() and not statement.strip().startswith("--"):
                connection.exec_driver_sql(statement)
        connection.execute(text("INSERT INTO threads (platform, workspace, channel, thread, created_at) "
                                "VALUES ('slack', 'T1', 'C1', '1.0', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO jobs (kind, source, scope, location, target, state, attempts, stage, done, total, "
            "chunks, pages, notified, created_at) VALUES ('file', 'old.pdf', 'global', '/x', '{}', 'done', 1, "
            "'done', 0, 0, 7, 2, true, CURRENT_TIMESTAMP)"))
    old.dispose()
    engine = make_engine(url, tmp_path)
    assert _revision(engine) == HEAD and _differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT source, chunks, runner_reports FROM jobs")).one() == ("old.pdf", 7, True)
    memory = ThreadMemory(engine)
    memory.remember(ThreadKey("slack", "T1", "C1", "1.0"), question="q", query="q", answer="a", sources=[],
                    mode="extractive", author="U1")
    assert [turn.answer for turn in memory.history(ThreadKey("slack", "T1", "C1", "1.0"))] == ["a"]


def test_a_database_at_an_older_revision_goes_through_the_newer_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kbot.db'}"
    engine = create_engine(url)
    _alembic(engine, REVISIONS[0])
    assert "runner" not in {c["name"] for c in inspect(engine).get_columns("jobs")}
    upgraded = make_engine(url, tmp_path)
    assert _revision(upgraded) == HEAD and _differences(upgraded) == []


_START = ("import sys; from pathlib import Path; from bot.state.engine import make_engine; "
          "make_engine(sys.argv[1], Path(sys.argv[2])); print('started')")


@pytest.mark.parametrize("which", ["sqlite", "postgresql"])
def test_processes_starting_together_on_a_new_database_all_start(which: str, tmp_path: Path, request) -> None:
    url = _url(which, tmp_path, request)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    starts = [subprocess.Popen([sys.executable, "-c", _START, url, str(tmp_path)], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    results = [process.communicate(timeout=120) for process in starts]
    assert [out for out, _ in results] == ["started\n"] * 4, [err[-400:] for _, err in results]
    assert _revision(create_engine(url)) == HEAD


def test_a_newer_kbots_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    engine = make_engine(None, tmp_path)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    with pytest.raises(DatabaseUnavailable, match="newer kbot") as refused:
        make_engine(None, tmp_path)
    assert "kbot.db" in str(refused.value)
    assert _revision(engine) == "0099_from_the_future"


def _old_database(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    engine = create_engine(f"sqlite:///{data / 'kbot.db'}")
    _alembic(engine, REVISIONS[0])
    engine.dispose()
    (tmp_path / "config.yaml").write_text("data_dir: data\nembedder: {kind: none}\ndatabase: {auto_migrate: false}\n")
    return data


def test_with_auto_migrate_off_an_old_schema_is_refused_until_kbot_migrate(tmp_path: Path, capsys, monkeypatch) -> None:
    data = _old_database(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["access"]) != 0
    assert "run `kbot migrate`" in capsys.readouterr().err
    assert main(["migrate", "--check"]) == 1
    assert "0001_baseline" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert f"0001_baseline → {HEAD}" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["migrate", "--check"]) == 0
    assert main(["access"]) == 0
    assert _revision(create_engine(f"sqlite:///{data / 'kbot.db'}")) == HEAD
