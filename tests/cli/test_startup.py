"""The short commands' start-up: torch deferred to first use (the standard library's LazyLoader), the
cyclic GC off while the libraries import, the heap frozen at exit. Each case runs in a fresh
interpreter, as a `kbot` command does; start-up may change when work happens, never what it does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.optional import requires_torch


def _run(code: str, cwd: Path | None = None) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_a_deferred_module_is_the_real_one_at_first_use() -> None:
    """What torch gets in the short commands, shown on a module every machine has."""
    out = _run("from bot.cli.startup import defer_imports; from bot.rag.embedding.threads import loaded; "
               "assert defer_imports(['colorsys']); import colorsys; before = loaded('colorsys'); "
               "value = colorsys.rgb_to_hsv(1.0, 0.0, 0.0); print(before, loaded('colorsys'), value[2])")
    assert out == ["False", "True", "1.0"]


@pytest.mark.parametrize("name", ["posthog", "aiohttp", "httpx", "urllib3"])
def test_deferred_libraries_are_real_at_first_use(name: str) -> None:
    """Haystack's telemetry client and the HTTP clients wait for first use, then are the real modules."""
    attribute = {"posthog": "Posthog", "aiohttp": "ClientSession", "httpx": "Client", "urllib3": "PoolManager"}[name]
    out = _run(f"from bot.cli.startup import defer_imports; from bot.rag.embedding.threads import loaded; "
               f"assert defer_imports(); import {name}; "
               f"before = loaded('{name}'); present = hasattr({name}, '{attribute}'); "
               f"print(before, loaded('{name}'), present)")
    assert out == ["False", "True", "True"]


def test_nothing_is_deferred_once_it_is_imported() -> None:
    out = _run("import colorsys; from bot.cli.startup import defer_imports; print(defer_imports(['colorsys']))")
    assert out == ["False"]


def test_a_command_leaves_its_heap_frozen_so_exit_does_not_walk_it(tmp_path: Path) -> None:
    """Interpreter exit skips frozen objects in its last collections (0.2 s of every short command)."""
    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder:\n  kind: none\n")
    out = _run("import gc; from bot.cli.main import main; code = main(['status', '--json']); "
               "print('frozen', code, gc.get_freeze_count() > 10_000)", cwd=tmp_path)
    assert out[-3:] == ["frozen", "0", "True"]


@requires_torch
def test_the_torch_runtime_still_embeds_in_a_short_command() -> None:
    """A command that does embed with sentence-transformers (`embedder.runtime: sentence-transformers`)
    under the deferred torch gets working torch and model."""
    out = _run(
        "from bot.cli.startup import defer_imports; assert defer_imports(); import haystack, lancedb; "
        "from bot.rag.embedding.build import build_embedder; from bot.rag.embedding.contract import EmbedderOptions; "
        "e = build_embedder(EmbedderOptions(kind='local', runtime='sentence-transformers')); "
        "print(len(e.embed_query('where can I park my bike')))"
    )
    assert out[-1] == "384"


@requires_torch
def test_a_deferred_torch_is_the_real_one_at_first_use() -> None:
    out = _run("from bot.cli.startup import defer_imports; from bot.rag.embedding.threads import loaded; "
               "assert defer_imports(); import torch; "
               "before = loaded('torch'); x = torch.ones(3).sum().item(); print(before, loaded('torch'), x)")
    assert out == ["False", "True", "3.0"]


def test_one_shot_commands_start_without_the_cyclic_gc_and_resume_it_frozen(tmp_path: Path) -> None:
    """Import-time full collections walked a million objects (0.5-0.7 s of a `kbot ask`); a one-shot
    command starts with collection off, and it comes back with the start-up heap frozen. `kbot run`
    is left alone (it freezes its own heap once it serves)."""
    out = _run(
        "import gc, threading; from bot.cli.main import main; "
        "from bot.cli.startup import collect_after_startup, resume_collection; "
        "code = main(['--config', 'missing.yaml', 'status']); "
        "print(code, gc.isenabled(), 'kbot-gc-resume' in [t.name for t in threading.enumerate()]); "
        "resume_collection(); print(gc.isenabled(), gc.get_freeze_count() > 10_000); "
        "timer = collect_after_startup(0.05); timer.join(); print(gc.isenabled()); "
        "main(['--config', 'missing.yaml', 'run']); print(gc.isenabled())",
        cwd=tmp_path,
    )
    assert out[-7:] == ["2", "False", "True", "True", "True", "True", "True"]
