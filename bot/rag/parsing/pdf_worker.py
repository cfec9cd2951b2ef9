"""Runs inside the PDF child process: light imports only, memory capped before pypdf sees the file."""

from __future__ import annotations

import io
import resource
from multiprocessing.connection import Connection

MEMORY_REASON = "PDF parsing hit the {mb} MB memory cap and was stopped (decompression bomb?)"


def extract_pdf(data: bytes, memory_mb: int, conn: Connection) -> None:
    """Send ("ok", pages, title) or ("error", reason) down `conn`."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        conn.send(_extract(data, memory_mb))
    except MemoryError:
        conn.send(("error", MEMORY_REASON.format(mb=memory_mb)))
    except Exception as exc:  # any parser failure is a reason for the person, not a crash
        conn.send(("error", f"unreadable PDF ({exc.__class__.__name__}: {str(exc)[:120]})"))
    finally:
        conn.close()


def _extract(data: bytes, memory_mb: int) -> tuple[str, ...]:
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
                return ("error", "password-protected (remove the password and upload it again)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except LimitReachedError:
        return ("error", "PDF content expands past the parser's safety limits and was stopped (decompression bomb?)")
    except PdfReadError as exc:
        return ("error", f"damaged PDF ({str(exc)[:120]})")
    return ("ok", pages, str(title) if title else None)  # type: ignore[return-value]
