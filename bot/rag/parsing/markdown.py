"""Markdown split into sections at its ATX headings (`#` .. `######`), code fences respected; each
section carries its heading path (`Guide › Backups › Restoring a table`)."""

from __future__ import annotations

import re

from bot.rag.parsing.types import Section, enter_heading

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_sections(text: str) -> tuple[list[Section], str | None]:
    """(sections with the heading each sits under, the first top-level heading as title). A file of
    headings alone (an outline, a list of one-line `# ...` notes) is its headings: they are its text."""
    sections: list[Section] = []
    headings: list[Section] = []
    title: str | None = None
    heading: str | None = None
    path: list[tuple[int, str]] = []
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
            level, text = len(match.group(1)), match.group(2).strip()
            path, heading = enter_heading(path, level, text)
            headings.append(Section(text=text, heading=heading))
            if title is None and level == 1:
                title = text
            continue
        lines.append(line)
    flush()
    return sections or headings, title
