"""`kbot doctor`: one ✓/✗ line per part, each ✗ with what to do — the config and data_dir, the
database and its schema, the store, the embedder, the LLM (a one-token request), and each enabled
platform checked with the platform itself. Exit 1 on any ✗."""

# Imports inside functions: each check imports the part it checks, so a broken part is a ✗ line
# rather than a failed import of the whole command.

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK, one_line
from bot.config import ConfigError, Settings
from bot.core.checks import Finding


def add_parsers(commands: Any) -> None:
    doctor = commands.add_parser("doctor", help="check the config, database, store, embedder, LLM and each "
                                                "enabled platform, one ✓/✗ line each (exit 1 on any ✗)")
    doctor.set_defaults(run=cmd_doctor)


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    findings = run_checks(settings, args.config)
    return EXIT_OK if all(f.ok for f in findings) else EXIT_FAILED


def run_checks(settings: Settings, explicit_config: str | None, show: Callable[[str], None] = print) -> list[Finding]:
    from bot.app import App

    findings: list[Finding] = []

    def note(found: Finding | list[Finding]) -> None:
        for one in found if isinstance(found, list) else [found]:
            findings.append(one)
            show(one.line())

    note(_config(settings, explicit_config))
    app = App(settings)
    for check in (_database, _store, _embedder):
        note(_guarded(check, app))
    note(asyncio.run(_llm(app)))
    note(asyncio.run(_platforms(app)))
    return findings


def _guarded(check: Callable[[Any], Finding], app: Any) -> Finding:
    try:
        return check(app)
    except Exception as exc:
        message = one_line(exc)
        if message is None:
            raise
        return Finding(False, f"{check.__name__.strip('_')}: {message}")


def _config(settings: Settings, explicit: str | None) -> Finding:
    from bot.config.settings import config_path

    path = config_path(explicit)
    where = f"data_dir {settings.data_path}"
    if path.exists():
        return Finding(True, f"config: {path.resolve()}; {where}")
    return Finding(True, f"config: no {path} here, so the built-in defaults; {where} (kbot init writes one)")


def _database(app: Any) -> Finding:
    from bot.state.engine import where
    from bot.state.schema import HEAD, revision

    with app.engine.connect() as connection:
        current = revision(connection)
    if current != HEAD:
        return Finding(False, f"database: {where(app.engine)} is at schema {current or 'none'}, this kbot needs {HEAD}",
                       "run kbot migrate (or set database.auto_migrate: true)")
    return Finding(True, f"database: {where(app.engine)} (schema {current})")


def _store(app: Any) -> Finding:
    chunks = app.knowledge_base.count_chunks()
    kind = app.settings.store.kind
    hint = "" if chunks else "; nothing indexed yet: kbot ingest"
    return Finding(True, f"store: {kind}, {chunks:,} chunks{hint}")


def _embedder(app: Any) -> Finding:
    settings = app.settings.embedder
    if settings.kind == "none":
        return Finding(True, "embedder: none (keyword search only)")
    vector = app.knowledge_base.embedder.embed_query("kbot doctor")
    return Finding(True, f"embedder: {settings.kind} {settings.model or ''}".rstrip() + f", {len(vector)} dimensions")


async def _llm(app: Any) -> Finding:
    settings = app.settings.llm
    if app.llm is None:
        return Finding(True, "llm: extractive (answers quote the passages; no model)")
    from haystack.dataclasses import ChatMessage

    where = f"{settings.model} at {settings.base_url or 'https://api.openai.com/v1'}"
    try:
        await app.llm.complete([ChatMessage.from_user("Reply with the word OK.")], min(settings.timeout_s, 20))
    except Exception as exc:
        return Finding(False, f"llm: {where} did not answer ({' '.join(str(exc).split())[:160]})",
                       "check llm.base_url, llm.model and llm.api_key, or set llm.kind: extractive")
    finally:
        await app.llm.aclose()
    return Finding(True, f"llm: {where} answered")


async def _platforms(app: Any) -> list[Finding]:
    settings: Settings = app.settings
    if not settings.enabled_platforms:
        return [Finding(True, "platforms: none enabled (kbot ask and kbot chat work; kbot run needs one)")]
    try:
        adapters = app.adapters()
    except ConfigError as exc:
        return [Finding(False, f"platforms: {exc}")]
    found: list[Finding] = []
    for adapter in adapters:
        try:
            found += await adapter.diagnose()
        except Exception as exc:
            found.append(Finding(False, f"{adapter.name}: {' '.join(str(exc).split())[:160]}",
                                 f"check the {adapter.name} section of the config"))
    return found
