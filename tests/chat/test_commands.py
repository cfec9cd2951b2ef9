"""Each chat command on its own: a real App's CommandEnv (SQLite, the embedded store, keyword
retrieval), a request as an adapter would make it, and what the command changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.chat import commands
from bot.chat.commands.base import REFUSED_ADMIN, CommandEnv
from bot.config import Settings
from bot.core.jobs import ProgressTarget
from bot.core.messages import Incoming, ThreadKey
from bot.core.requests import CommandRequest, Reply, ThreadCapture, Upload
from bot.core.scopes import visible_scopes

PLATFORM, TEAM, CHANNEL = "slack", "T1", "C1"
HERE = f"{PLATFORM}:{TEAM}"


class Posted:
    """The progress messages a command posted (the adapter's side of PostProgress)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, text: str) -> ProgressTarget:
        self.texts.append(text)
        return ProgressTarget(PLATFORM, TEAM, CHANNEL, str(len(self.texts)))


@pytest.fixture
def app(make_settings: Callable[..., Settings]) -> App:
    return App(make_settings(jobs={"uploads_per_hour": 2}))


@pytest.fixture
def env(app: App) -> CommandEnv:
    return app.commands


def _request(args: str = "", *, admin: bool = False, operator: bool = False, upload: Upload | None = None,
             thread: ThreadCapture | None = None) -> CommandRequest:
    incoming = Incoming(ThreadKey(PLATFORM, TEAM, CHANNEL, "1.0"), "U1", "", visible_scopes(PLATFORM, TEAM),
                        is_admin=admin, operator=operator)
    return CommandRequest(incoming, args, HERE, upload=upload, thread=thread)


def _run(name: str, env: CommandEnv, request: CommandRequest, posted: Posted | None = None) -> Reply:
    return asyncio.run(commands.run(name, request, env, posted or Posted()))


def _file(name: str, data: bytes) -> Upload:
    async def fetch() -> bytes:
        return data

    return Upload(name, len(data), fetch)


def _index(app: App, name: str, text: str, scope: str = HERE) -> None:
    outcome = app.indexer.index_bytes(text.encode(), "markdown", name, scope, uploader="U1")
    assert outcome.status == "indexed", outcome


def test_help_lists_every_command_of_the_table_and_unknown_ones_point_to_it(env: CommandEnv) -> None:
    text = _run("help", env, _request()).text
    assert all(f"/kb {command.name}" in text for command in commands.CHAT_COMMANDS)
    assert "(admins)" in text and "(kbot's own admins)" in text
    assert _run("nonsense", env, _request()).text == "There is no /kb nonsense. Try /kb help."
    assert commands.parse("/kb") == ("help", "")
    assert commands.parse("/kb@kbot_bot Upload  a b") == ("upload", "a b")
    assert commands.parse("hello") is None


def test_upload_checks_the_file_then_queues_it_with_a_progress_message(env: CommandEnv) -> None:
    assert "Attach the file" in _run("upload", env, _request()).text
    assert _run("upload", env, _request(upload=_file("tool.exe", b"MZ"))).text.startswith("tool.exe: ")
    assert _run("upload", env, _request(upload=_file("empty.md", b""))).text == "empty.md is empty."
    posted = Posted()
    assert _run("upload", env, _request(upload=_file("handbook.md", b"# Leave\n\n25 days.")), posted).text == ""
    assert posted.texts == ["handbook.md — queued"]
    [job] = env.jobs.recent({HERE})
    assert job.source == "handbook.md" and job.state == "queued"
    _run("upload", env, _request(upload=_file("b.md", b"b")))
    assert _run("upload", env, _request(upload=_file("c.md", b"c"))).text.startswith(
        "You have added 2 documents in the last hour")  # uploads_per_hour: 2
    assert len(env.jobs.recent({HERE})) == 2


def test_add_refuses_what_it_may_not_fetch(env: CommandEnv) -> None:
    assert _run("add", env, _request()).text.startswith("Give a web address")
    refused = _run("add", env, _request("http://127.0.0.1:8080/admin")).text
    assert refused.endswith(".") and env.jobs.recent({HERE}) == []


def test_status_shows_this_places_jobs(env: CommandEnv) -> None:
    assert _run("status", env, _request()).text == "No indexing jobs here yet."
    _run("upload", env, _request(upload=_file("handbook.md", b"# Leave")))
    [job] = env.jobs.recent({HERE})
    assert _run("status", env, _request()).text.startswith(f"#{job.id} ")
    assert _run("status", env, _request(str(job.id + 7))).text == f"There is no job {job.id + 7} here."
    assert _run("status", env, _request("twelve")).text.startswith("Give the job's number")


def test_list_and_delete_a_document_here(app: App, env: CommandEnv) -> None:
    assert _run("list", env, _request()).text.startswith("No documents are answerable here yet")
    _index(app, "handbook.md", "# Leave\n\nEvery employee gets 25 vacation days a year.")
    assert "handbook.md" in _run("list", env, _request()).text
    assert _run("delete", env, _request("handbook.md")).text == REFUSED_ADMIN  # the table says: admins
    assert app.knowledge_base.count_chunks() > 0
    assert _run("delete", env, _request("other.md", admin=True)).text.startswith("No document called other.md")
    assert _run("delete", env, _request("handbook.md", admin=True)).text.startswith("Deleted handbook.md")
    assert app.knowledge_base.count_chunks() == 0


def test_scope_preset_and_visibility_anyone_looks_admins_change(env: CommandEnv) -> None:
    key = ThreadKey(PLATFORM, TEAM, CHANNEL, "1.0")
    assert env.channel_scopes is not None
    assert _run("scope", env, _request("global off")).text == REFUSED_ADMIN
    assert env.channel_scopes.choice(key).use_global
    _run("scope", env, _request("global off", admin=True))
    assert not env.channel_scopes.choice(key).use_global
    assert "balanced" in _run("preset", env, _request()).text
    assert _run("preset", env, _request("accurate")).text == REFUSED_ADMIN
    _run("preset", env, _request("accurate", admin=True))
    assert env.channel_scopes.choice(key).preset == "accurate"
    assert _run("visibility", env, _request("private_first")).text == REFUSED_ADMIN
    _run("visibility", env, _request("private_first", admin=True))
    assert env.channel_scopes.choice(key).visibility == "private_first"
    assert _run("visibility", env, _request("sideways", admin=True)).text.startswith("Use")


def test_save_needs_a_thread(env: CommandEnv) -> None:
    assert _run("save", env, _request()).text == commands.save.NOT_IN_A_THREAD


def test_gaps_and_stats_report_on_this_place(env: CommandEnv) -> None:
    assert _run("gaps", env, _request("zero")).text != ""
    assert _run("gaps", env, _request("30")).text != ""
    assert _run("stats", env, _request("7")).text.startswith("Last 7 days in this channel: 0 question(s)")


def test_approve_is_for_kbots_own_admins(env: CommandEnv) -> None:
    assert _run("approve", env, _request("K7QX-4MPD", admin=True)).text == commands.approve.REFUSED
    assert _run("approve", env, _request("K7QX-4MPD", operator=True)).text.startswith("No place is waiting")
    verdict = env.access.check("discord", "G9", "Guild nine", "u9")
    if verdict.code is None:
        pytest.skip("this configuration admits every place (no pairing codes)")
    reply = _run("approve", env, _request(verdict.code, operator=True)).text
    assert reply.startswith("Approved") and env.access.is_allowed("discord", "G9")


def test_the_table_is_the_one_source_of_names_and_options() -> None:
    names = [command.name for command in commands.CHAT_COMMANDS]
    assert len(names) == len(set(names)) == len(commands.COMMANDS)
    assert all(len(command.summary) <= 100 for command in commands.CHAT_COMMANDS)  # Discord's limit
    chosen: dict[str, Any] = {c.name: c.who for c in commands.CHAT_COMMANDS}
    assert chosen["delete"] == "admins" and chosen["approve"] == "kbot admins" and chosen["list"] == "everyone"


def test_make_settings_is_a_temp_folder(tmp_path: Path, app: App) -> None:
    assert app.settings.data_path.is_relative_to(tmp_path)
