"""How the commands write to a terminal: a progress bar where there is one, plain lines otherwise,
sizes and passages made short."""

# Imports inside functions: tqdm loads only when a progress bar is drawn.

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def folder_size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def snippet(text: str, limit: int = 200) -> str:
    """One line of a passage; a heading line stays apart from the text it heads ("Heading — Text")."""
    from bot.rag.extractive import sections

    flat = " — ".join(f"{heading} — {body}" if heading else body for heading, body in sections(text)) or ""
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


class Progress:
    """A tqdm bar on a terminal (files, pages, chunks); plain lines otherwise, e.g. in CI logs."""

    def __init__(self, total: int, unit: str = "file") -> None:
        self.total = total
        self.started = time.monotonic()
        self.count = 0
        self.pages = 0
        self.chunks = 0
        self.current = ""
        self.bar: Any = None
        if sys.stderr.isatty() and total:
            from tqdm import tqdm  # only on a terminal

            self.bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)

    def start(self, source: str) -> None:
        self.current = source
        if self.bar is not None:
            self.bar.set_description(Path(source).name[:30])

    def update(self, stage: str, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{stage} {done}/{total}, pages {self.pages}, chunks {self.chunks}")

    def set(self, done: int) -> None:
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()

    def done(self, outcome: Any) -> None:
        self.count += 1
        self.pages += outcome.pages
        self.chunks += outcome.chunks
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"pages {self.pages}, chunks {self.chunks}")
        else:
            indexed = f"{outcome.chunks} chunks" + (f", {outcome.reused} vectors kept" if outcome.reused else "")
            detail = {"indexed": indexed, "unchanged": "unchanged"}.get(
                outcome.status, f"failed ({outcome.reason})"
            )
            print(f"[{self.count}/{self.total}] {outcome.source}: {detail}", file=sys.stderr)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class LateBar:
    """A progress bar opened at the first step (an import learns its total only after checking every
    line)."""

    def __init__(self, unit: str) -> None:
        self.progress: Progress | None = None
        self.unit = unit

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            self.progress = Progress(total, unit=self.unit)
        self.progress.set(done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress = None


SCOPE_PLATFORMS = ("slack", "discord", "telegram", "cli")  # what may come before the first ":" of a scope


def scope_warnings(scopes: list[str], known: list[str] | None = None) -> list[str]:
    """One line per scope that cannot be right: an unknown platform (`slck:T123`), or, when `known`
    (the scopes the store holds) is given, one nothing was ever indexed in; each with a near miss."""
    import difflib

    from bot.core.scopes import GLOBAL

    lines = []
    for scope in scopes:
        if scope == GLOBAL:
            continue
        platform = scope.partition(":")[0]
        if platform not in SCOPE_PLATFORMS or ":" not in scope:
            close = difflib.get_close_matches(platform, SCOPE_PLATFORMS, n=1)
            guess = f": did you mean {close[0]}:{scope.partition(':')[2]}?" if close else ""
            lines.append(f"kbot: warning: {scope!r} is not a scope (global, or platform:id such as slack:T123)"
                         f"{guess}")
        elif known is not None and scope not in known:
            close = difflib.get_close_matches(scope, known, n=1, cutoff=0.7)
            listed = ", ".join(sorted(known)[:8]) or "none"
            guess = f" did you mean {close[0]}?" if close else f" the store holds: {listed}"
            lines.append(f"kbot: warning: nothing is indexed in scope {scope};{guess}")
    return lines
