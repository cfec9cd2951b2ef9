"""PDF text per page, parsed in a child process with a time limit and a memory cap.

A hostile PDF (a decompression bomb, an endless content stream) can only take down the child;
kbot gets a reason back either way.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from bot.rag.parsing.pdf_worker import MEMORY_REASON
from bot.rag.parsing.types import OutlineEntry, ParsedDocument, ParseError, Section

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


def run_pdf_child(data: bytes, timeout_s: float, memory_mb: int) -> dict:
    """Parse in a fresh interpreter that imports only the worker, whatever process kbot runs in."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bot.rag.parsing.pdf_worker", str(memory_mb)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        out, _ = child.communicate(data, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise ParseError(f"PDF parsing took longer than {timeout_s:g} s and was stopped") from None
    try:
        return json.loads(out)
    except ValueError:
        raise ParseError(_death_reason(child.returncode, memory_mb)) from None


def _death_reason(exitcode: int | None, memory_mb: int) -> str:
    if exitcode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, 1):
        # Out of address space inside native code shows up as a kill or an abort.
        return MEMORY_REASON.format(mb=memory_mb)
    return f"the PDF parser stopped unexpectedly (exit code {exitcode}); the file may be damaged"


def parse_pdf(data: bytes, timeout_s: float = 60.0, memory_mb: int = 1024) -> ParsedDocument:
    check_pdf_header(data)
    result = run_pdf_child(data, timeout_s, memory_mb)
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
