"""The short commands' cheap LanceDB import: pydantic validators built on first use, `@override` as a
marker. Each case runs in a fresh interpreter, as a `kbot` command does; the import must change when
work happens, never what the libraries do."""

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


def test_lancedb_imported_for_a_short_command_builds_no_validators_until_used() -> None:
    out = _run(
        "import sys; from bot.lazy_imports import defer_imports; assert defer_imports(); import lancedb; "
        "from lance_namespace_urllib3_client.models import ListTablesRequest; "
        "print(ListTablesRequest.__pydantic_complete__); "
        "r = ListTablesRequest(id=['a', 'b']); print(ListTablesRequest.__pydantic_complete__, r.id == ['a', 'b']); "
        "import pydantic\n"
        "try:\n    ListTablesRequest(id=5)\nexcept pydantic.ValidationError:\n    print('refused')\n"
        "class Later(pydantic.BaseModel):\n    n: int\n"
        "print(Later.__pydantic_complete__)"
    )
    # deferred at import, built (and validating as ever) at first use; models defined later are unaffected
    assert out == ["False", "True", "True", "refused", "True"]


def test_the_rest_clients_names_are_imported_when_first_read() -> None:
    """LanceDB's import leaves the REST client's API classes (and urllib3) unimported; reading one
    imports the real class, bound for later reads; a name the package never had is still an error."""
    api = "lance_namespace_urllib3_client.api.table_api"
    out = _run(
        "import sys; from bot.lazy_imports import defer_imports, loaded; assert defer_imports(); import lancedb; "
        "import lance_namespace_urllib3_client as client; "
        f"print('{api}' in sys.modules, loaded('urllib3'), bool(client.__version__)); "
        f"table_api = client.TableApi; print('{api}' in sys.modules, table_api.__name__, "
        "'TableApi' in vars(client), client.models.ListTablesRequest.__name__)\n"
        "try:\n    client.NoSuchApi\nexcept AttributeError:\n    print('missing')"
    )
    assert out == ["False", "False", "True", "True", "TableApi", "True", "ListTablesRequest", "missing"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="LanceDB uses typing.override itself on Python 3.12+")
def test_the_override_markers_are_lent_only_while_lancedb_imports() -> None:
    out = _run(
        "import sys; from bot.lazy_imports import defer_imports; assert defer_imports(); import lancedb; "
        "print('overrides' in sys.modules); import overrides; print(hasattr(overrides, 'enforce'))"
    )
    # LanceDB got the markers it uses on Python 3.12+; anyone importing `overrides` afterwards gets the real package
    assert out == ["False", "True"]


def test_a_table_written_and_searched_after_the_cheap_import_behaves_as_ever(tmp_path: Path) -> None:
    out = _run(
        "from bot.lazy_imports import defer_imports; assert defer_imports(); import lancedb, pyarrow as pa; "
        "db = lancedb.connect('store'); "
        "t = db.create_table('t', data=[{'id': 'a', 'vector': [1.0, 0.0], 'text': 'bicycle racks'}, "
        "{'id': 'b', 'vector': [0.0, 1.0], 'text': 'meal allowance'}]); "
        "t.create_fts_index('text'); "
        "print(t.search([0.9, 0.1]).limit(1).to_list()[0]['id'], "
        "t.search('bicycle', query_type='fts').limit(1).to_list()[0]['id'], t.count_rows(), db.list_tables().tables)",
        cwd=tmp_path,
    )
    assert out == ["a", "a", "2", "['t']"]


@pytest.mark.parametrize("name", ["posthog", "aiohttp"])
def test_deferred_libraries_are_real_at_first_use(name: str) -> None:
    """Haystack's telemetry client and the LLM's HTTP client wait for first use, then are the real modules."""
    attribute = {"posthog": "Posthog", "aiohttp": "ClientSession"}[name]
    out = _run(f"from bot.lazy_imports import defer_imports, loaded; assert defer_imports(); import {name}; "
               f"before = loaded('{name}'); present = hasattr({name}, '{attribute}'); "
               f"print(before, loaded('{name}'), present)")
    assert out == ["False", "True", "True"]


def test_a_command_leaves_its_heap_frozen_so_exit_does_not_walk_it(tmp_path: Path) -> None:
    """Interpreter exit skips frozen objects in its last collections (0.2 s of every short command)."""
    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder:\n  kind: none\n")
    out = _run("import gc; from bot.cli import main; code = main(['status', '--json']); "
               "print('frozen', code, gc.get_freeze_count() > 10_000)", cwd=tmp_path)
    assert out[-3:] == ["frozen", "0", "True"]


@requires_torch
def test_the_torch_runtime_still_embeds_in_a_short_command() -> None:
    """Everything deferred at once must not break an import chain: a command that does embed with
    sentence-transformers (`embedder.runtime: sentence-transformers`) gets working torch and model."""
    out = _run(
        "from bot.lazy_imports import defer_imports; assert defer_imports(); import haystack, lancedb; "
        "from bot.rag.embedders import EmbedderOptions, build_embedder; "
        "e = build_embedder(EmbedderOptions(kind='local', runtime='sentence-transformers')); "
        "print(len(e.embed_query('where can I park my bike')))"
    )
    assert out[-1] == "384"


def test_one_shot_commands_start_without_the_cyclic_gc_and_resume_it_frozen(tmp_path: Path) -> None:
    """Import-time full collections walked a million objects (0.5-0.7 s of a `kbot ask`); a one-shot
    command starts with collection off, and it comes back with the start-up heap frozen. `kbot run`
    is left alone (it freezes its own heap once it serves)."""
    out = _run(
        "import gc, threading; from bot.cli import collect_after_startup, main, resume_collection; "
        "code = main(['--config', 'missing.yaml', 'status']); "
        "print(code, gc.isenabled(), 'kbot-gc-resume' in [t.name for t in threading.enumerate()]); "
        "resume_collection(); print(gc.isenabled(), gc.get_freeze_count() > 10_000); "
        "timer = collect_after_startup(0.05); timer.join(); print(gc.isenabled()); "
        "main(['--config', 'missing.yaml', 'run']); print(gc.isenabled())",
        cwd=tmp_path,
    )
    assert out[-7:] == ["2", "False", "True", "True", "True", "True", "True"]
