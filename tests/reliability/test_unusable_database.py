"""Promise: a database kbot cannot use is one clear line (naming the file or URL and what to do),
never a traceback, and a database that goes away while kbot runs shows in /readyz."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.http_site import closed_port_url
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import http_get, knowledge_bot, platform_settings, running_bot
from tests.support.postgres import requires_postgres
from tests.support.processes import Finished, run_kbot

# These tests share the tables of the one test PostgreSQL database: under `pytest -n`, one worker
# runs them all, one after another.
pytestmark = pytest.mark.xdist_group("shared-postgres")

NOBODY = 65534
CONFIG = "data_dir: state\nknowledge: {paths: [docs]}\nembedder: {kind: none}\nllm: {kind: extractive}\n"


@pytest.fixture
def project() -> Iterator[Path]:
    """A project every user may read (a test may run kbot as an unprivileged user)."""
    root = Path(tempfile.mkdtemp(prefix="kbot-db-"))
    root.chmod(0o755)
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("# Alpha\n\nThe alpha team owns billing.\n")
    (root / "config.yaml").write_text(CONFIG)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _kbot(project: Path, *args: str, as_nobody: bool = False) -> Finished:
    """`kbot ARGS` in a child process; as an unprivileged user when asked (permissions bind root too little).
    That one is a fresh interpreter started by setpriv: a process forked from the tests' fork server
    would import what it has not loaded yet from folders that user may not read."""
    env = {**os.environ, "HOME": str(project)}
    if not (as_nobody and os.geteuid() == 0):
        return run_kbot(list(args), project, env=env, timeout=120)
    command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable, "-m", "bot",
               *args]
    done = subprocess.run(command, cwd=project, env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True,
                          text=True, timeout=120)
    return Finished(done.returncode, done.stdout, done.stderr)


def _one_line_error(run: Finished) -> str:
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("kbot:")]
    assert len(lines) == 1, run.stderr
    return lines[0]


def _readonly_database(project: Path) -> Path:
    assert _kbot(project, "ingest").returncode == 0
    database = project / "state" / "kbot.db"
    for path in (project / "state", *(project / "state").rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by all, writable by the owner (root) only
    return database


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="needs setpriv to drop root")
@pytest.mark.parametrize("command", [["ask", "Which team owns billing?"], ["run"]])
def test_a_read_only_database_is_one_line_naming_the_file(project: Path, command: list[str]) -> None:
    database = _readonly_database(project)
    if command == ["run"]:
        (project / "config.yaml").write_text(CONFIG + "telegram: {enabled: true, token: '1:x'}\n")
    line = _one_line_error(_kbot(project, *command, as_nobody=True))
    assert str(database) in line and "cannot be used" in line and "writable by kbot" in line


def test_a_file_that_is_not_a_database_is_one_line(project: Path) -> None:
    (project / "state").mkdir()
    (project / "state" / "kbot.db").write_bytes(b"this is not a database " * 100)
    line = _one_line_error(_kbot(project, "ask", "Which team owns billing?"))
    assert "state/kbot.db" in line and "file is not a database" in line


def test_a_data_folder_that_cannot_exist_is_one_line(project: Path) -> None:
    (project / "blocker").write_text("a file where the folder should be")
    (project / "config.yaml").write_text(CONFIG.replace("data_dir: state", "data_dir: blocker/state"))
    line = _one_line_error(_kbot(project, "ask", "Which team owns billing?"))
    assert "blocker/state" in line and "data_dir" in line


def test_an_unreachable_postgresql_is_one_line_without_its_password(project: Path) -> None:
    port = closed_port_url().rsplit(":", 1)[1].rstrip("/")
    url = f"postgresql+psycopg://kbot:hunter2@127.0.0.1:{port}/kbot"
    (project / "config.yaml").write_text(CONFIG + f"database: {{url: '{url}'}}\n")
    for command in (["ask", "Which team owns billing?"], ["access"]):
        run = _kbot(project, *command)
        line = _one_line_error(run)
        assert f"127.0.0.1:{port}/kbot" in line and "refused" in line.lower() and "hunter2" not in run.stderr



@requires_postgres
def test_a_database_that_turns_read_only_while_running_shows_in_readyz(make_settings, llm,
                                                                       postgres_database: str) -> None:
    """On a database of its own: it ends every other connection to the database it turns read-only."""
    from sqlalchemy import create_engine, text

    url = postgres_database
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    database = admin.url.database

    def read_only(on: bool) -> None:
        with admin.connect() as db:
            db.execute(text(f"ALTER DATABASE {database} SET default_transaction_read_only = {'on' if on else 'off'}"))
            db.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base},
            database={"url": url})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                ready = f"http://127.0.0.1:{running.ops.port}/readyz"
                assert (await asyncio.to_thread(http_get, ready))[0] == 200
                try:
                    await asyncio.to_thread(read_only, True)
                    status, body = await asyncio.to_thread(http_get, ready)
                    assert status == 503 and '"database": false' in body and '"telegram": true' in body
                finally:
                    await asyncio.to_thread(read_only, False)
                assert (await asyncio.to_thread(http_get, ready))[0] == 200

        asyncio.run(scenario())
    admin.dispose()
