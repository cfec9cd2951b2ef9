"""PDF text per page, parsed in a child process with a time limit and a memory cap.

A hostile PDF (a decompression bomb, an endless content stream) can only take down the child;
kbot gets a reason back either way. The time limit grows with the document (a base plus a budget
per page), so a 2,400-page manual is read while a two-page bomb is still stopped quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.rag.parsing.child import ChildParser
from bot.rag.parsing.ocr import OFF, run_ocr, unread_warnings
from bot.rag.parsing.pdf_worker import MEMORY_REASON
from bot.rag.parsing.types import OcrLimits, OutlineEntry, ParsedDocument, ParseError, PdfLimits, Section

PageProgress = Callable[..., None]  # (pages read, pages in the file[, stage]): stage "reading" or "ocr"
PROGRESS_EVERY_S = 0.25  # page progress is reported at most this often (and once at the end)

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (DOCX or similar)",
    b"{\\rtf": "an RTF document",
}


def check_pdf_header(data: bytes) -> None:
    if b"%PDF-" in data[:1024]:
        return
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise ParseError(f"not a PDF: the file is {what}")
    raise ParseError("not a PDF: no PDF header (is the extension right?)")


def _budget_text(limits: PdfLimits, pages: int) -> str:
    total = limits.deadline_s(pages)
    if not pages or not limits.page_budget_s:
        return f"{total:g} s"
    plural = "s" if pages > 1 else ""
    return f"{total:g} s ({limits.timeout_s:g} s + {limits.page_budget_s:g} s for each of {pages} page{plural})"


def run_pdf_child(data: bytes, limits: PdfLimits, on_page: PageProgress | None = None) -> dict[str, Any]:
    """Pages, title and outline from a fresh interpreter that imports only the worker."""
    child = ChildParser("bot.rag.parsing.pdf_worker", [str(limits.memory_mb), limits.parser], data,
                        what="the PDF parser", memory_reason=MEMORY_REASON.format(mb=limits.memory_mb))
    pages: list[str] = []
    empty: list[int] = []  # pages with nothing drawn on them (pdfium says; pypdf does not)
    title: str | None = None
    count = 0  # as the file's header says, once the child has opened it
    reported = 0.0

    def deadline_s() -> float:  # the page count, once known, raises it
        return limits.deadline_s(count)

    def too_slow() -> str:
        return f"PDF parsing took longer than {_budget_text(limits, count)} and was stopped"

    try:
        for record in child.records(deadline_s, too_slow):
            if "pages" in record:
                count, title = int(record["pages"]), record.get("title")
                if count > limits.max_pages:
                    raise ParseError(f"the PDF has {count:,} pages; kbot reads at most "
                                     f"{limits.max_pages:,} (knowledge.pdf_max_pages)")
            elif "text" in record:
                pages.append(str(record["text"]))
                if record.get("empty"):
                    empty.append(len(pages))
                now = time.monotonic()
                if on_page is not None and (now - reported >= PROGRESS_EVERY_S or len(pages) == count):
                    reported = now
                    on_page(len(pages), max(count, len(pages)))
            else:
                if not record.get("ok"):
                    return {"ok": False, "reason": str(record.get("reason", "unreadable PDF"))}
                return {"ok": True, "pages": pages, "title": title, "outline": record.get("outline", []),
                        "empty": empty}
    finally:
        child.close()
    raise ParseError("the PDF parser stopped unexpectedly; the file may be damaged")


def parse_pdf(data: bytes, limits: PdfLimits | None = None, on_page: PageProgress | None = None,
              ocr: OcrLimits | None = None) -> ParsedDocument:
    """Text per page; pages without a text layer are read with OCR (`ocr`, when enabled) and any it
    cannot read are named in the warnings. `on_page(done, total, stage)`: stage "reading" or "ocr"."""
    check_pdf_header(data)
    result = run_pdf_child(data, limits or PdfLimits(), on_page)
    if not result["ok"]:
        raise ParseError(result["reason"])
    pages, title = result["pages"], result["title"]
    if not pages:
        raise ParseError("the PDF has no pages")
    warnings: list[str] = []
    drawn_on = set(range(1, len(pages) + 1)) - set(result.get("empty", []))
    blank = [number for number, text in enumerate(pages, 1) if not text.strip() and number in drawn_on]
    if blank and ocr is not None and ocr.enabled:
        cap = ocr.pages_for(len(data))
        chosen, skipped = blank[:cap], blank[cap:]
        progress = (lambda number, total: on_page(number, total, "ocr")) if on_page is not None else None
        read = run_ocr(data, "pdf", chosen, ocr, len(pages), progress)
        for number, text in read.texts.items():
            pages[number - 1] = text
        warnings = unread_warnings(read.unreadable, skipped, cap, ocr.max_pages, read.blank)
    sections = [Section(text=text.strip(), page=number) for number, text in enumerate(pages, 1) if text.strip()]
    if not sections:
        if ocr is not None and ocr.enabled:
            raise ParseError("no text on any page, even with OCR (blank or unreadable scans?)")
        raise ParseError(f"no text layer (a scanned PDF?); {OFF}")
    outline = [OutlineEntry(int(depth), str(name), int(page)) for depth, name, page in result.get("outline", [])
               if 1 <= int(page) <= len(pages)]
    return ParsedDocument(kind="pdf", sections=sections, title=title, outline=outline, page_count=len(sections),
                          warnings=warnings)
