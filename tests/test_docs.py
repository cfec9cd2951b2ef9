"""The docs: the README is a front door (at most 250 lines, every link resolves), the docs site's
navigation names every page, and the generated references are what the code generates now."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import yaml

from tests.support.paths import REPO

DOCS = REPO / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference", REPO / "scripts" / "docs_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_is_at_most_250_lines_and_its_links_resolve() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local and [t for t in local if not (REPO / t).exists()] == []


def test_the_generated_references_match_the_code() -> None:
    """Run `.venv/bin/python scripts/docs_reference.py` after changing a setting or a command."""
    generator = _generator()
    for name, make in generator.PAGES.items():
        committed = (DOCS / "reference" / name).read_text(encoding="utf-8")
        assert committed == make(), f"docs/reference/{name} is stale: run scripts/docs_reference.py"


def test_the_references_name_every_setting_and_command() -> None:
    generator = _generator()
    config, commands = generator.config_reference(), generator.cli_reference()
    for key in ("`knowledge.paths`", "`store.weaviate.url`", "`slack.bot_token`", "`telegram.webhook_secret`",
                "`answer.min_similarity`"):
        assert key in config
    for command in ("## kbot ingest", "## kbot run", "## kbot eval", "## kbot export", "### kbot pipeline show"):
        assert command in commands


def test_the_sites_navigation_names_every_page() -> None:
    site = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(items: list[object]) -> list[str]:
        found: list[str] = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            found += pages(value) if isinstance(value, list) else [str(value)]
        return found

    listed = set(pages(site["nav"]))
    present = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert listed == present


def test_the_sample_knowledge_is_only_the_handbook() -> None:
    assert sorted(p.name for p in (REPO / "knowledge").iterdir()) == ["handbook"]
