"""The PDF child process: `python -m bot.rag.parsing.pdf_worker MEMORY_MB` < file.pdf > result.json.

A fresh interpreter that imports only pypdf, with its address space capped before it reads the
file; it prints {"ok": true, "pages": [...], "title": ..., "outline": [[depth, title, page], ...]} or
{"ok": false, "reason": ...}.
"""

from __future__ import annotations

import io
import json
import resource
import sys

MEMORY_REASON = "PDF parsing hit the {mb} MB memory cap and was stopped (decompression bomb?)"
MAX_OUTLINE = 5000  # bookmarks kept; a hostile outline can be endless or cyclic


def outline_entries(reader: object) -> list[list]:
    """The bookmarks as [depth, title, 1-based page], in document order; [] when unreadable."""
    entries: list[list] = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if len(entries) >= MAX_OUTLINE or depth > 8:
                return
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)  # type: ignore[attr-defined]
            except Exception:  # a broken destination: that bookmark only
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            if title and page is not None and page >= 0:
                entries.append([depth, title[:200], page + 1])

    try:
        walk(reader.outline, 0)  # type: ignore[attr-defined]
    except Exception:  # outlines are optional: a damaged one only costs the headings
        return entries
    return entries


def extract(data: bytes) -> dict:
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
                return {"ok": False, "reason": "password-protected (remove the password and upload it again)"}
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
        outline = outline_entries(reader)
    except LimitReachedError:
        return {
            "ok": False,
            "reason": "PDF content expands past the parser's safety limits and was stopped (decompression bomb?)",
        }
    except PdfReadError as exc:
        return {"ok": False, "reason": f"damaged PDF ({str(exc)[:120]})"}
    return {"ok": True, "pages": pages, "title": str(title) if title else None, "outline": outline}


def main() -> int:
    memory_mb = int(sys.argv[1])
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result = extract(sys.stdin.buffer.read())
    except MemoryError:
        result = {"ok": False, "reason": MEMORY_REASON.format(mb=memory_mb)}
    except Exception as exc:  # any parser failure is a reason for the person, not a crash
        result = {"ok": False, "reason": f"unreadable PDF ({exc.__class__.__name__}: {str(exc)[:120]})"}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
