"""Text shown as a title or a quoted line: one line, at most `limit` characters."""

from __future__ import annotations


def excerpt(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace as one space), cut to `limit` with "…" when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
