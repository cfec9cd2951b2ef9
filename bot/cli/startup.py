"""Start-up tuning for the short commands, by supported means only: the garbage collector, NumPy's
page size, library log levels, and libraries the command never calls deferred to their first use.

Haystack imports torch whenever it is installed (haystack/utils/device.py), a second of every
`kbot search`, `ask` or `status`, none of which computes with it (questions are embedded on ONNX
Runtime or in NumPy); it and LanceDB import HTTP clients and a telemetry client that a local search
never calls. The standard library's `importlib.util.LazyLoader` gives such an import a module whose
code runs at its first attribute access: a command that does use one gets the real module then.
Nothing of the libraries is changed. Before Python 3.12 LazyLoader can fail when two threads touch
the module first at the same moment, so `kbot run` and `kbot ingest` import them as usual.
"""

from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

DEFERRED = (
    "torch",
    "posthog",  # Haystack's telemetry client: kbot switches telemetry off
    "aiohttp",  # the LLM's HTTP client: extractive answers never use it
    "httpx",  # URL fetching and Haystack's pipeline drawing: a search or a status never uses it
    "urllib3",  # LanceDB's REST namespace client: a local table never uses it
)
# Commands that embed only questions: torch waits for first use.
LAZY_TORCH_COMMANDS = frozenset({"search", "ask", "status", "eval", "delete", "approve", "access", "revoke",
                                 "gaps", "stats", "migrate", "export", "import"})

# One-shot commands start with the cyclic garbage collector off: importing LanceDB, Haystack and
# SQLAlchemy creates about a million long-lived objects, and the full collections that triggers walked
# them all (README "Tests and benchmarks"). After this long, what exists is frozen (later collections
# skip it) and collection resumes, so a long ingest or eval never grows without one.
STARTUP_WITHOUT_GC_S = 5.0


def prepare(command: str) -> None:
    """Before the command's first heavy import."""
    if command != "run":  # `kbot run` freezes its own heap once it serves
        collect_after_startup()
    if command in LAZY_TORCH_COMMANDS:
        defer_imports()
    quiet_libraries()


def resume_collection() -> None:
    gc.freeze()
    gc.enable()


def collect_after_startup(seconds: float = STARTUP_WITHOUT_GC_S) -> threading.Timer:
    gc.disable()
    timer = threading.Timer(seconds, resume_collection)
    timer.name, timer.daemon = "kbot-gc-resume", True
    timer.start()
    return timer


def skip_collection_at_exit() -> None:
    """Interpreter exit runs full collections over every object still alive (with LanceDB's and
    Haystack's modules loaded, a fifth of a second after the output is written); frozen objects are
    skipped, and everything is still released when the process ends."""
    gc.freeze()


def small_pages_for_numpy() -> None:
    """NumPy asks the kernel for transparent huge pages for every array over 4 MB; where the kernel
    backs them slowly, each reload of the store's copy in memory paid for it, for no measurable query
    speed (README "How the embedded store searches"). NUMPY_MADVISE_HUGEPAGE=1 restores NumPy's
    default. Read once, when NumPy is imported."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("haystack", "sentence_transformers", "httpx", "transformers", "weaviate", "lancedb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class _LazyFinder(importlib.abc.MetaPathFinder):
    """Finds the deferred packages as the other finders would, with their loader wrapped in LazyLoader."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)  # a finder of the older protocol has none
            spec: ModuleSpec | None = find_spec(fullname, path, target) if find_spec is not None else None
            if spec is not None:
                if isinstance(spec.loader, importlib.abc.Loader):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def defer_imports(names: Sequence[str] = DEFERRED) -> bool:
    """Make later imports of `names` lazy; False (and nothing deferred) when one is already imported."""
    if any(name in sys.modules for name in names):
        return False
    if not any(isinstance(finder, _LazyFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _LazyFinder(names))
    return True


def loaded(name: str) -> bool:
    """Whether `name` was imported and its code has run (a deferred module that nobody used has not)."""
    module = sys.modules.get(name)
    if module is None:
        return False
    spec = getattr(module, "__spec__", None)
    return not isinstance(getattr(spec, "loader", None), importlib.util.LazyLoader) or \
        type(module) is ModuleType
