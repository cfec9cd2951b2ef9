"""Batches for `kbot ingest`: expand paths and URLs into sources, and summarise the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.rag.indexer import IndexOutcome
from bot.rag.parsing import SUPPORTED_SUFFIXES, is_url


@dataclass(frozen=True)
class Target:
    source: str  # the name chunks carry and `kbot delete` takes
    path: Path | None = None
    url: str | None = None


def source_name(path: Path, root: Path) -> str:
    """Paths under the project root are named relative to it, so names don't depend on the cwd."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def expand(items: list[str | Path], root: Path, cwd: Path | None = None) -> tuple[list[Target], list[IndexOutcome]]:
    """Targets to index, and failures for arguments that are not there at all."""
    cwd = cwd or Path.cwd()
    targets: list[Target] = []
    missing: list[IndexOutcome] = []
    for item in items:
        if isinstance(item, str) and is_url(item):
            targets.append(Target(source=item, url=item))
            continue
        path = Path(item).expanduser()
        path = path if path.is_absolute() else cwd / path
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                hidden = any(part.startswith(".") for part in file.relative_to(path).parts)
                if not hidden and file.suffix.lower() in SUPPORTED_SUFFIXES:
                    targets.append(Target(source=source_name(file, root), path=file))
        elif path.is_file():
            targets.append(Target(source=source_name(path, root), path=path))
        else:
            missing.append(IndexOutcome(str(item), "failed", reason="no such file or folder"))
    return targets, missing


def summarize(outcomes: list[IndexOutcome]) -> str:
    """E.g. `4/5 indexed (1 unchanged); failed: bad.pdf (password-protected)`."""
    ok = [o for o in outcomes if o.status in ("indexed", "unchanged")]
    unchanged = sum(1 for o in outcomes if o.status == "unchanged")
    failed = [o for o in outcomes if o.status == "failed"]
    line = f"{len(ok)}/{len(outcomes)} indexed"
    if unchanged:
        line += f" ({unchanged} unchanged)"
    if failed:
        line += "; failed: " + ", ".join(f"{Path(o.source).name if not is_url(o.source) else o.source} ({o.reason})"
                                         for o in failed)
    return line
