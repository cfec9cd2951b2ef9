"""Torch loaded on first use, not on import, for the short CLI commands.

Haystack imports torch whenever it is installed (haystack/utils/device.py), which costs a second of
every `kbot search`, `kbot ask` and `kbot status` although none of them computes with torch (questions
are embedded in NumPy). The standard library's LazyLoader gives `import torch` a module object whose
code runs at its first attribute access, so a command that never touches torch never pays for it,
and one that does (a document embedded with sentence-transformers) gets the real module then.

Only for single-threaded commands: before Python 3.12 LazyLoader can fail when two threads touch the
module first at the same moment, so `kbot run` imports torch as usual.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

DEFERRED = ("torch",)


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the deferred packages as the other finders would, with their loader made lazy."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def defer_imports(names: Sequence[str] = DEFERRED) -> bool:
    """Make later imports of `names` lazy; False when one of them is already imported (nothing to gain)."""
    if any(name in sys.modules for name in names):
        return False
    if not any(isinstance(finder, _DeferringFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeferringFinder(names))
    return True


def loaded(name: str) -> bool:
    """Whether `name` was imported and its code has run (a deferred module that nobody used has not)."""
    module = sys.modules.get(name)
    return module is not None and type(module) is not importlib.util._LazyModule  # type: ignore[attr-defined]
