"""What a parser returns, and the one error type that carries a one-line reason for the person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.messages import HEADING_SEPARATOR

__all__ = ["HEADING_SEPARATOR", "Limits", "OcrLimits", "OutlineEntry", "ParsedDocument", "ParseError", "PdfLimits",
           "Section", "enter_heading"]


def enter_heading(path: list[tuple[int, str]], level: int, text: str) -> tuple[list[tuple[int, str]], str]:
    """The heading path after a heading of `level` (deeper ones before it end), and its joined label."""
    path = [(depth, name) for depth, name in path if depth < level] + [(level, text)]
    return path, HEADING_SEPARATOR.join(name for _, name in path)


# A Python object's repr (`<_io.BytesIO object at 0x7f...>`) says nothing to the person who uploaded.
_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


class ParseError(Exception):
    """A document kbot cannot index; `reason` is short, specific, and says what to do where it can
    (one line, no reprs: a library's message is cleaned of what only a programmer could read)."""

    def __init__(self, reason: str) -> None:
        reason = " ".join(_REPR.sub("the data", reason).split())[:300]
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path (`A › B › C`); a PDF section may span pages."""

    text: str
    page: int | None = None  # the page it starts on
    heading: str | None = None
    page_breaks: tuple[tuple[int, int], ...] = ()  # (offset in text, page) where each later page begins

    def page_at(self, offset: int) -> int | None:
        page = self.page
        for start, number in self.page_breaks:
            if start > offset:
                break
            page = number
        return page


@dataclass(frozen=True)
class OutlineEntry:
    """A PDF bookmark: how deep it sits, its title, the page it points to."""

    depth: int
    title: str
    page: int


@dataclass
class ParsedDocument:
    kind: str  # pdf | docx | markdown | text | html | image
    sections: list[Section]
    title: str | None = None
    url: str | None = None
    warnings: list[str] = field(default_factory=list)
    outline: list[OutlineEntry] = field(default_factory=list)
    page_count: int | None = None  # PDFs: pages in the file, skipped ones included

    @property
    def pages(self) -> int:
        if self.page_count is not None:
            return self.page_count
        pages = {s.page for s in self.sections if s.page is not None}
        pages.update(number for s in self.sections for _, number in s.page_breaks)
        return len(pages)


@dataclass(frozen=True)
class PdfLimits:
    """The PDF child process's limits: time grows with the page count, memory is capped."""

    timeout_s: float = 60.0  # the base, for opening the file and its first pages
    page_budget_s: float = 0.5  # added per page the file says it has
    memory_mb: int = 1024
    max_pages: int = 10_000
    parser: str = "pdfium"  # pdfium | pypdf

    def deadline_s(self, pages: int) -> float:
        return self.timeout_s + self.page_budget_s * pages


OCR_MIN_PAGES = 10
OCR_BYTES_PER_PAGE = 2000


@dataclass(frozen=True)
class OcrLimits:
    """Scanned pages and images: read with OCR in a child process of their own (the models need more
    memory than text extraction), within a time budget per page and a page cap."""

    enabled: bool = True
    timeout_s: float = 30.0  # the base: loading the models and opening the file
    page_budget_s: float = 30.0  # added for each page OCR reads
    max_pages: int = 200  # pages without a text layer past this are reported, not read
    memory_mb: int = 2048
    dpi: int = 200
    min_score: float = 0.5  # a page whose recognized text scores lower is reported as unreadable

    def deadline_s(self, started: int) -> float:
        return self.timeout_s + self.page_budget_s * started

    def pages_for(self, size_bytes: int) -> int:
        """Pages OCR reads of a file this size: `max_pages`, and no more than the file can hold (a
        scanned page takes a few kilobytes even compressed as a fax; 500 pages in 400 KB are blank
        or made to stall the indexing queue, so the time OCR may take grows with the file)."""
        return min(self.max_pages, max(OCR_MIN_PAGES, size_bytes // OCR_BYTES_PER_PAGE))


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    pdf: PdfLimits = PdfLimits()
    ocr: OcrLimits = OcrLimits()
    url_timeout_s: float = 20.0
