"""The PDF child process: `python -m bot.rag.parsing.pdf_worker MEMORY_MB [pdfium|pypdf]` < file.pdf.

A fresh interpreter that imports only the extractor, with its address space capped before it reads
the file. It writes JSON lines as it goes, so the parent shows page progress and sets the time limit
from the page count:
    {"pages": N, "title": ...}            once the file is open
    {"text": "...", "empty": false}       one per page, in order ("empty": nothing drawn on it at all)
    {"ok": true, "outline": [[depth, title, page], ...]}   at the end
or {"ok": false, "reason": ...} at any point.
"""

# Imports inside functions: this runs in a child interpreter, which imports only the parser the request names.

from __future__ import annotations

import io
import json
import resource
import sys
from collections.abc import Iterator
from typing import Any

MEMORY_REASON = "PDF parsing hit the {mb} MB memory cap and was stopped (decompression bomb?)"
BOMB_REASON = "PDF content expands past the parser's safety limits and was stopped (decompression bomb?)"
PASSWORD_REASON = "password-protected (remove the password and upload it again)"
MAX_OUTLINE = 5000  # bookmarks kept; a hostile outline can be endless or cyclic
MAX_OUTLINE_DEPTH = 8
PARSERS = ("pdfium", "pypdf")


class Refused(Exception):
    """A reason for the person, worded for one line."""


def _title(raw: object) -> str | None:
    text = " ".join(str(raw or "").split())
    return text[:200] or None


# -- pypdfium2 (PDFium, the engine of Chrome's viewer): 10-25x faster than pypdf on typeset manuals --

def pdfium_pages(data: bytes) -> Iterator[dict[str, Any]]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Refused(PASSWORD_REASON) from None
        raise Refused(f"damaged PDF ({str(exc)[:120]})") from None
    count = len(document)
    yield {"pages": count, "title": _title(document.get_metadata_value("Title"))}
    for index in range(count):
        try:
            page = document[index]
        except pdfium.PdfiumError as exc:
            raise Refused(f"damaged PDF (page {index + 1}: {str(exc)[:100]})") from None
        textpage = page.get_textpage()
        # A page with no objects at all is blank on purpose: OCR has nothing to look at there.
        yield {"text": textpage.get_text_bounded(), "empty": pdfium_raw.FPDFPage_CountObjects(page.raw) == 0}
        textpage.close()
        page.close()
    outline: list[list[Any]] = []
    try:
        for bookmark in document.get_toc(max_depth=MAX_OUTLINE_DEPTH):
            if len(outline) >= MAX_OUTLINE:
                break
            destination = bookmark.get_dest()
            page_index: int | None = destination.get_index() if destination is not None else None
            title = _title(bookmark.get_title())
            if title and page_index is not None and page_index >= 0:
                outline.append([bookmark.level, title, page_index + 1])
    except Exception:  # outlines are optional: a damaged one only costs the headings
        pass
    yield {"ok": True, "outline": outline}


# -- pypdf (pure Python): selectable with knowledge.pdf_parser: pypdf --------------------------------

def outline_entries(reader: object) -> list[list[Any]]:
    """The bookmarks as [depth, title, 1-based page], in document order; [] when unreadable."""
    entries: list[list[Any]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if len(entries) >= MAX_OUTLINE or depth > MAX_OUTLINE_DEPTH:
                return
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)  # type: ignore[attr-defined]  # reader: a PdfReader, typed object to keep pypdf lazy
            except Exception:  # a broken destination: that bookmark only
                continue
            title = _title(getattr(item, "title", ""))
            if title and page is not None and page >= 0:
                entries.append([depth, title, page + 1])

    try:
        walk(reader.outline, 0)  # type: ignore[attr-defined]  # as above
    except Exception:  # outlines are optional: a damaged one only costs the headings
        return entries
    return entries


def pypdf_pages(data: bytes) -> Iterator[dict[str, Any]]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except (DependencyError, NotImplementedError):
                unlocked = PasswordType.NOT_DECRYPTED
            if unlocked == PasswordType.NOT_DECRYPTED:
                raise Refused(PASSWORD_REASON)
        yield {"pages": len(reader.pages), "title": _title(reader.metadata.title if reader.metadata else None)}
        for page in reader.pages:
            yield {"text": page.extract_text() or ""}
        yield {"ok": True, "outline": outline_entries(reader)}
    except LimitReachedError:
        raise Refused(BOMB_REASON) from None
    except PdfReadError as exc:
        raise Refused(f"damaged PDF ({str(exc)[:120]})") from None


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def main() -> int:
    memory_mb = int(sys.argv[1])
    parser = sys.argv[2] if len(sys.argv) > 2 else PARSERS[0]
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        data = sys.stdin.buffer.read()
        for record in (pdfium_pages if parser == "pdfium" else pypdf_pages)(data):
            emit(record)
    except Refused as exc:
        emit({"ok": False, "reason": str(exc)})
    except MemoryError:
        emit({"ok": False, "reason": MEMORY_REASON.format(mb=memory_mb)})
    except Exception as exc:  # any parser failure is a reason for the person, not a crash
        emit({"ok": False, "reason": f"unreadable PDF ({exc.__class__.__name__}: {str(exc)[:120]})"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
