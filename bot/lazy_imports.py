"""Heavy imports made cheap for the short CLI commands: torch loaded on first use, not on import, and
LanceDB's generated REST models validated from their first use on.

Haystack imports torch whenever it is installed (haystack/utils/device.py), which costs a second of
every `kbot search`, `kbot ask` and `kbot status` although none of them computes with torch (questions
are embedded in NumPy). The standard library's LazyLoader gives `import torch` a module object whose
code runs at its first attribute access, so a command that never touches torch never pays for it,
and one that does (a document embedded with sentence-transformers) gets the real module then.

LanceDB imports the client of its namespace REST API (lance_namespace_urllib3_client) even for a
local table: some 300 pydantic models and 150 `validate_call` methods whose validators pydantic builds
at import, half a second of every command. Imported with pydantic's own `defer_build` as the default,
each is built the first time it validates, which for a local table is never. On Python 3.11 LanceDB
also checks each of its ~100 `@override` methods against its base classes at import (the `overrides`
package, a quarter of a second); on 3.12+ it uses `typing.override`, a marker. The short commands
give it that 3.12 behaviour on 3.11 too.

Only for single-threaded commands: before Python 3.12 LazyLoader can fail when two threads touch the
module first at the same moment, so `kbot run` imports torch as usual.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

DEFERRED = (
    "torch",
    "posthog",  # Haystack's telemetry, which kbot switches off
    "aiohttp",  # the LLM's HTTP client: extractive answers never use it
)
SCHEMAS_ON_FIRST_USE = ("lancedb",)


@contextmanager
def pydantic_schemas_on_first_use() -> Iterator[None]:
    """Models and `validate_call` functions defined inside build their validators when first used.

    Uses the default behind pydantic's public `defer_build` setting; on a pydantic without it,
    nothing changes (imports are as slow as before, never wrong)."""
    try:
        from pydantic._internal import _config
    except ImportError:
        yield
        return
    defaults = getattr(_config, "config_defaults", None)
    if not isinstance(defaults, dict) or "defer_build" not in defaults:
        yield
        return
    previous = defaults["defer_build"]
    defaults["defer_build"] = True
    try:
        yield
    finally:
        defaults["defer_build"] = previous


@contextmanager
def overrides_as_markers() -> Iterator[None]:
    """While inside, `from overrides import override, EnforceOverrides` gets what LanceDB itself uses on
    Python 3.12+ (`typing.override`, a plain base class) instead of the import-time checker."""
    if "overrides" in sys.modules:
        yield
        return
    import typing_extensions

    markers = ModuleType("overrides")
    markers.override = typing_extensions.override  # type: ignore[attr-defined]
    markers.EnforceOverrides = type("EnforceOverrides", (), {})  # type: ignore[attr-defined]
    sys.modules["overrides"] = markers
    try:
        yield
    finally:
        if sys.modules.get("overrides") is markers:
            del sys.modules["overrides"]


class _SchemasOnFirstUseLoader(importlib.abc.Loader):
    """Runs a package's import (and so every import it makes) under `pydantic_schemas_on_first_use`
    and `overrides_as_markers`."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with pydantic_schemas_on_first_use(), overrides_as_markers():
            self.loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:  # the rest (resource readers, is_package, ...) as the real loader
        return getattr(self.loader, name)


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the deferred packages as the other finders would, with their loader made lazy (or
    made to defer pydantic's work)."""

    def __init__(self, names: Sequence[str], schemas_on_first_use: Sequence[str] = ()) -> None:
        self.names = frozenset(names)
        self.schemas_on_first_use = frozenset(schemas_on_first_use)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names and fullname not in self.schemas_on_first_use:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    if fullname in self.names:
                        spec.loader = importlib.util.LazyLoader(spec.loader)
                    else:
                        spec.loader = _SchemasOnFirstUseLoader(spec.loader)
                return spec
        return None


def defer_imports(names: Sequence[str] = DEFERRED, schemas_on_first_use: Sequence[str] = SCHEMAS_ON_FIRST_USE) -> bool:
    """Make later imports of `names` lazy, and those of `schemas_on_first_use` defer pydantic's
    validators; False (and nothing deferred) when one of them is already imported."""
    if any(name in sys.modules for name in (*names, *schemas_on_first_use)):
        return False
    if not any(isinstance(finder, _DeferringFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeferringFinder(names, schemas_on_first_use))
    return True


def loaded(name: str) -> bool:
    """Whether `name` was imported and its code has run (a deferred module that nobody used has not)."""
    module = sys.modules.get(name)
    return module is not None and type(module) is not importlib.util._LazyModule  # type: ignore[attr-defined]
