"""PDF text per page, parsed in a child process with a time limit and a memory cap.

A hostile PDF (a decompression bomb, an endless content stream) can only take down the child;
kbot gets a reason back either way. The time limit grows with the document (a base plus a budget
per page), so a 2,400-page manual is read while a two-page bomb is still stopped quickly.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

from bot.rag.parsing.pdf_worker import MEMORY_REASON
from bot.rag.parsing.types import OutlineEntry, ParsedDocument, ParseError, PdfLimits, Section

PageProgress = Callable[[int, int], None]  # (pages read, pages in the file)
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


class _Child:
    """The worker process and its JSON lines, read against a deadline that the page count can raise."""

    def __init__(self, data: bytes, limits: PdfLimits) -> None:
        self.limits = limits
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.rag.parsing.pdf_worker", str(limits.memory_mb), limits.parser],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        # Feed stdin from a thread: the child may answer (or die) before it has read everything.
        self._feeder = threading.Thread(target=self._feed, args=(data,), daemon=True)
        self._feeder.start()
        self._selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        self._fd = self.process.stdout.fileno()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self._buffer = b""
        self.started = time.monotonic()
        self.pages = 0  # as the file's header says, once the child has opened it

    def _feed(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def records(self) -> Iterator[dict]:
        """Each JSON record; ParseError when the deadline passes or the child dies."""
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    record = json.loads(line)
                except ValueError:
                    raise ParseError(self._death_reason()) from None
                if not isinstance(record, dict):
                    raise ParseError(self._death_reason())
                yield record
            remaining = self.started + self.limits.deadline_s(self.pages) - time.monotonic()
            if remaining <= 0:
                raise ParseError(f"PDF parsing took longer than {self._budget_text()} and was stopped")
            if not self._selector.select(timeout=min(remaining, 1.0)):
                continue
            chunk = os.read(self._fd, 1 << 20)
            if not chunk:
                raise ParseError(self._death_reason())
            self._buffer += chunk

    def _budget_text(self) -> str:
        pages = self.pages
        total = self.limits.deadline_s(pages)
        if not pages or not self.limits.page_budget_s:
            return f"{total:g} s"
        plural = "s" if pages > 1 else ""
        base, per_page = self.limits.timeout_s, self.limits.page_budget_s
        return f"{total:g} s ({base:g} s + {per_page:g} s for each of {pages} page{plural})"

    def _death_reason(self) -> str:
        try:
            exitcode = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # alive but talking nonsense: stop it
            self.process.kill()
            return "the PDF parser stopped unexpectedly; the file may be damaged"
        if exitcode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, 1):
            # Out of address space inside native code shows up as a kill or an abort.
            return MEMORY_REASON.format(mb=self.limits.memory_mb)
        return f"the PDF parser stopped unexpectedly (exit code {exitcode}); the file may be damaged"

    def close(self) -> None:
        self._selector.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


def run_pdf_child(data: bytes, limits: PdfLimits, on_page: PageProgress | None = None) -> dict:
    """Pages, title and outline from a fresh interpreter that imports only the worker."""
    child = _Child(data, limits)
    pages: list[str] = []
    title: str | None = None
    reported = 0.0
    try:
        for record in child.records():
            if "pages" in record:
                child.pages, title = int(record["pages"]), record.get("title")
                if child.pages > limits.max_pages:
                    raise ParseError(f"the PDF has {child.pages:,} pages; kbot reads at most "
                                     f"{limits.max_pages:,} (knowledge.pdf_max_pages)")
            elif "text" in record:
                pages.append(str(record["text"]))
                now = time.monotonic()
                if on_page is not None and (now - reported >= PROGRESS_EVERY_S or len(pages) == child.pages):
                    reported = now
                    on_page(len(pages), max(child.pages, len(pages)))
            else:
                if not record.get("ok"):
                    return {"ok": False, "reason": str(record.get("reason", "unreadable PDF"))}
                return {"ok": True, "pages": pages, "title": title, "outline": record.get("outline", [])}
    finally:
        child.close()
    raise ParseError("the PDF parser stopped unexpectedly; the file may be damaged")


def parse_pdf(data: bytes, limits: PdfLimits | None = None, on_page: PageProgress | None = None) -> ParsedDocument:
    check_pdf_header(data)
    result = run_pdf_child(data, limits or PdfLimits(), on_page)
    if not result["ok"]:
        raise ParseError(result["reason"])
    pages, title = result["pages"], result["title"]
    if not pages:
        raise ParseError("the PDF has no pages")
    sections = [Section(text=text.strip(), page=number) for number, text in enumerate(pages, 1) if text.strip()]
    if not sections:
        raise ParseError("no text layer (a scanned PDF? run OCR on it first)")
    outline = [OutlineEntry(int(depth), str(name), int(page)) for depth, name, page in result.get("outline", [])
               if 1 <= int(page) <= len(pages)]
    return ParsedDocument(kind="pdf", sections=sections, title=title, outline=outline, page_count=len(sections))
