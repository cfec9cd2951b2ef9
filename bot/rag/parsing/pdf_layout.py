"""PDF pages into readable sections: contents and index pages out, running headers and footers out,
words hyphenated across lines joined, and sections cut at the PDF's bookmarks (or numbered headings).

pypdf gives one string per page with the layout's line breaks; everything here works on those
lines, so it costs a few milliseconds for a book of hundreds of pages.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass

from bot.rag.parsing.types import HEADING_SEPARATOR, OutlineEntry, Section

# "Introduction . . . . . 12", "export .......... 56": a dot leader ending in a page number.
_LEADER = re.compile(r"(?:\.\s?){4,}\s*[0-9ivxlc]+\s*$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:/|of)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$",
                          re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# "word-\nword" with lower-case letters on both sides: one word broken by the line end.
_HYPHENATED = re.compile(r"([a-zß-ÿ]{2,})-\n([a-zß-ÿ]{2,})")
_NUMBERED_HEADING = re.compile(r"^((?:\d{1,2}|[A-Z])(?:\.\d{1,2}){0,4})\.?\s+([A-Z][^\n]{1,78})$")
_SECTION_NUMBER = re.compile(r"^(?:chapter|appendix|part)?\s*(?:\d{1,2}|[A-Z])(?:\.\d{1,2})*\.?:?\s+", re.IGNORECASE)
CONTENTS_SHARE = 0.3  # of a page's lines ending in a dot leader: a contents or index page
MAX_HEADING_CHARS = 200
MAX_LEADER_LINE = 300  # longer lines are prose, never contents entries (and stay cheap to check)
TINY_SECTION_WORDS = 8  # a section this short is only its heading line: it joins the next one
RUNNING_MIN_PAGES = 3  # a first or last line seen on this many pages is a running header or footer


@dataclass(frozen=True)
class Page:
    number: int
    text: str


def is_contents_page(text: str) -> bool:
    """A table of contents or an index: many lines end in dot leaders and page numbers."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 5:
        return False
    leaders = sum(1 for line in lines if len(line) <= MAX_LEADER_LINE and _LEADER.search(line))
    return leaders / len(lines) >= CONTENTS_SHARE


def _edge_keys(lines: list[str]) -> set[str]:
    """The first two and last two lines, digits folded, so "Chapter 3 … 40" and "… 41" match."""
    edges = lines[:2] + lines[-2:]
    return {_DIGITS.sub("#", line.strip().lower()) for line in edges if line.strip()}


def strip_running_lines(pages: list[Page]) -> list[Page]:
    """Lines repeated at the top or bottom of several pages, and lone page numbers there, removed."""
    split = [[line for line in page.text.splitlines() if line.strip()] for page in pages]
    seen = Counter(key for lines in split for key in _edge_keys(lines))
    running = {key for key, count in seen.items() if count >= RUNNING_MIN_PAGES} if len(pages) >= 4 else set()

    def edge_junk(line: str) -> bool:
        stripped = line.strip()
        return bool(_PAGE_NUMBER.match(stripped)) or _DIGITS.sub("#", stripped.lower()) in running

    cleaned = []
    for page, lines in zip(pages, split, strict=True):
        start, end = 0, len(lines)
        while start < end and start < 2 and edge_junk(lines[start]):
            start += 1
        while end > start and end > len(lines) - 2 and edge_junk(lines[end - 1]):
            end -= 1
        cleaned.append(Page(page.number, "\n".join(lines[start:end])))
    return cleaned


def join_hyphenation(text: str) -> str:
    return _HYPHENATED.sub(r"\1\2", text)


def _comparable(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _heading_forms(lines: list[str]) -> dict[str, list[int]]:
    """Each short line's comparable forms (as written, and without its section number) -> line indices,
    so finding a bookmark's heading line is a lookup, whatever the number of bookmarks."""
    forms: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > MAX_HEADING_CHARS:
            continue
        for form in {_comparable(stripped), _comparable(_SECTION_NUMBER.sub("", stripped))}:
            if form:
                forms.setdefault(form, []).append(index)
    return forms


@dataclass(frozen=True)
class _Boundary:
    page: int
    line: int  # index into that page's lines where the section starts
    path: tuple[str, ...]


def _outline_boundaries(pages: list[Page], outline: list[OutlineEntry]) -> list[_Boundary]:
    """Each bookmark starts a section at the line on its page that carries its title (`3.6.6 Here
    Documents` for "Here Documents"), else at the top of what is left of that page."""
    lines_of = {page.number: page.text.splitlines() for page in pages}
    forms_of: dict[int, dict[str, list[int]]] = {}
    boundaries: list[_Boundary] = []
    stack: list[str] = []
    cursor: dict[int, int] = {}
    for entry in outline:
        depth = min(entry.depth, len(stack))
        stack[depth:] = [entry.title]
        if entry.page not in lines_of:  # a skipped page (contents, index) or one without text
            continue
        forms = forms_of.setdefault(entry.page, _heading_forms(lines_of[entry.page]))
        start = cursor.get(entry.page, 0)
        candidates = forms.get(_comparable(entry.title), [])
        found = candidates[bisect.bisect_left(candidates, start)] if candidates and candidates[-1] >= start else None
        line = found if found is not None else start
        cursor[entry.page] = line + 1 if found is not None else start
        boundaries.append(_Boundary(entry.page, line, tuple(stack)))
    return boundaries


def _numbered_boundaries(pages: list[Page]) -> list[_Boundary]:
    """Headings from numbered lines ("2 Setup", "2.1 Installing") when the PDF has no bookmarks."""
    boundaries: list[_Boundary] = []
    stack: list[tuple[int, str]] = []
    for page in pages:
        for index, line in enumerate(page.text.splitlines()):
            match = _NUMBERED_HEADING.match(line.strip())
            if not match or line.strip().endswith((".", ",", ";")):
                continue
            depth = match.group(1).count(".")
            stack = [(d, t) for d, t in stack if d < depth] + [(depth, line.strip())]
            boundaries.append(_Boundary(page.number, index, tuple(t for _, t in stack)))
    return boundaries if len(boundaries) >= 2 else []


def sections_from_pages(pages: list[Page], outline: list[OutlineEntry]) -> list[Section]:
    """One section per heading, spanning pages where it does; one per page when there are no headings."""
    boundaries = _outline_boundaries(pages, outline) if outline else _numbered_boundaries(pages)
    if not boundaries:
        return [Section(text=page.text, page=page.number) for page in pages if page.text.strip()]
    boundaries.sort(key=lambda b: (b.page, b.line))
    sections: list[Section] = []
    parts: list[str] = []
    breaks: list[tuple[int, int]] = []
    first_page: int | None = None
    heading: str | None = None
    length = 0

    def flush() -> None:
        nonlocal parts, breaks, first_page, length
        text = "\n".join(parts)
        if len(text.split()) < TINY_SECTION_WORDS and not breaks:
            return  # a heading with nothing under it yet: it leads into the next section
        sections.append(Section(text=text, page=first_page, heading=heading, page_breaks=tuple(breaks)))
        parts, breaks, first_page, length = [], [], None, 0

    def add(page: int, text: str) -> None:
        nonlocal first_page, length
        if not text.strip():
            return
        if first_page is None:
            first_page = page
        elif page != (breaks[-1][1] if breaks else first_page):
            breaks.append((length + 1, page))
        if parts:
            length += 1
        parts.append(text)
        length += len(text)

    by_page: dict[int, list[_Boundary]] = {}
    for boundary in boundaries:
        by_page.setdefault(boundary.page, []).append(boundary)
    for page in pages:
        lines = page.text.splitlines()
        position = 0
        for boundary in by_page.get(page.number, []):
            add(page.number, "\n".join(lines[position:boundary.line]))
            flush()
            heading = HEADING_SEPARATOR.join(boundary.path)
            position = boundary.line
        add(page.number, "\n".join(lines[position:]))
    if parts:
        text = "\n".join(parts)
        sections.append(Section(text=text, page=first_page, heading=heading, page_breaks=tuple(breaks)))
    return sections


def structure_pdf(pages: list[Page], outline: list[OutlineEntry]) -> tuple[list[Section], list[str]]:
    """Sections of clean text, and warnings for the person (pages skipped as contents or index)."""
    kept = [page for page in pages if not is_contents_page(page.text)]
    skipped = len(pages) - len(kept)
    if not kept:  # a document that is all listing: index it as it is rather than not at all
        kept, skipped = pages, 0
    kept = strip_running_lines(kept)
    kept = [Page(page.number, join_hyphenation(page.text)) for page in kept]
    warnings = [f"{skipped} contents or index page(s) not indexed as passages"] if skipped else []
    return sections_from_pages(kept, outline), warnings
