"""Promise: what kbot keeps on disk is readable by kbot's user alone, whatever the umask.

data_dir (the questions people asked, their uploads, the knowledge base) is created 0700, the SQLite
database 0600, and `kbot export` archives 0600; a `kbot run` whose data_dir others can read says so
at start, with the command that fixes it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import knowledge_bot, platform_settings, running_bot


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the common default: new files readable by everyone
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_database_and_archives_are_private(tmp_path: Path, monkeypatch, permissive_umask) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Alpha\n\nThe alpha team owns billing.\n")
    (tmp_path / "config.yaml").write_text("data_dir: state\nknowledge: {paths: [docs]}\nembedder: {kind: none}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["ingest"]) == 0
    assert main(["ask", "Which team owns billing?"]) == 0
    assert main(["export", "backup.tar.gz"]) == 0
    assert _mode(tmp_path / "state") == 0o700
    for name in ("kbot.db", "kbot.db-wal", "kbot.db-shm"):
        if (tmp_path / "state" / name).exists():
            assert _mode(tmp_path / "state" / name) == 0o600, name
    assert _mode(tmp_path / "backup.tar.gz") == 0o600


def test_a_data_dir_others_can_read_is_named_at_start(make_settings, llm, caplog, permissive_umask) -> None:
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        settings.data_path.mkdir(parents=True)
        settings.data_path.chmod(0o755)  # made by hand, or by an older kbot
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            with caplog.at_level(logging.WARNING, logger="kbot.run"):
                async with running_bot(app):
                    pass

        asyncio.run(scenario())
    said = [r.getMessage() for r in caplog.records if "other users" in r.getMessage()]
    assert len(said) == 1 and f"chmod 700 {settings.data_path}" in said[0]
