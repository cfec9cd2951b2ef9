"""Markdown split into sections at its ATX headings (`#` .. `######`), code fences respected."""

from __future__ import annotations

import re

from bot.rag.parsing.types import Section

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_sections(text: str) -> tuple[list[Section], str | None]:
    """(sections with the heading each sits under, the first top-level heading as title)."""
    sections: list[Section] = []
    title: str | None = None
    heading: str | None = None
    lines: list[str] = []
    fence: str | None = None

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(text=body, heading=heading))
        lines.clear()

    for line in text.splitlines():
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            fence = None if fence == marker else (fence or marker)
        match = None if fence else _HEADING.match(line)
        if match:
            flush()
            heading = match.group(2).strip()
            if title is None and len(match.group(1)) == 1:
                title = heading
            continue
        lines.append(line)
    flush()
    return sections, title
