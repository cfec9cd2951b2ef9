"""The house rules a reshaping must keep: few modules at the root of bot/, none over 400 lines, imports
inside functions only with their reason, and tests that share helpers through tests/support only."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import REPO

BOT = REPO / "bot"
MAX_ROOT_MODULES = 8
MAX_LINES = 400
MARKER = "# Imports inside functions:"


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def _function_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.extend(_imports(node))
    return found


def test_the_root_of_bot_holds_only_entry_points_and_the_composition_root() -> None:
    root = sorted(p.name for p in BOT.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(REPO)): n for p in _modules(BOT)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_every_import_inside_a_function_has_its_reason() -> None:
    unexplained = [str(p.relative_to(REPO)) for p in _modules(BOT)
                   if _function_imports(ast.parse(p.read_text(encoding="utf-8")))
                   and MARKER not in p.read_text(encoding="utf-8")]
    assert unexplained == []


def test_tests_share_helpers_through_tests_support_only() -> None:
    borrowed = []
    for path in _modules(REPO / "tests") + _modules(REPO / "bench"):
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if name.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                    borrowed.append(f"{path.relative_to(REPO)}: {name}")
    assert borrowed == []


def test_the_rule_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The checks above would catch a breach: a function-level import and a borrowed test helper."""
    sample = ast.parse("def f():\n    import json\n    from tests.chat.test_conversation import Port\n")
    assert len(_function_imports(sample)) == 2
