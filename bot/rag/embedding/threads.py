"""CPU threads for the embedding libraries, and whether torch has really been loaded."""

from __future__ import annotations

import os
import sys
from types import ModuleType


def loaded(name: str) -> bool:
    """Whether `name` was imported and its code has run. A module that `importlib.util.LazyLoader`
    defers (bot/cli/startup.py) is of a subclass of ModuleType until its first use, then a plain one."""
    module = sys.modules.get(name)
    return module is not None and type(module) is ModuleType


def limit_threads(threads: int) -> None:
    """Torch, OpenMP and BLAS each size their thread pool to every core; several processes on one
    machine then fight over the cores. The variables cover libraries not imported yet."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    if loaded("torch"):  # imported for real; a deferred torch reads the variables when it runs
        sys.modules["torch"].set_num_threads(threads)
