"""Turn a file, bytes or a URL into sections of text with page and heading metadata."""

# Imports inside functions: each format's parser, and its library, loads at the first file of that format.

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.rag.parsing.types import Limits, OcrLimits, ParsedDocument, ParseError, PdfLimits, Section
from bot.rag.parsing.url import Fetched, UrlFetcher, is_url, too_large

__all__ = [
    "Limits", "OcrLimits", "PdfLimits", "ParsedDocument", "ParseError", "Section", "SUPPORTED_SUFFIXES", "UrlFetcher",
    "is_url", "parse_bytes", "parse_url", "fetch_url", "Fetched", "kind_for", "check_size",
]

SUFFIX_KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".html": "html",
    ".htm": "html",
    # Photos and scans of documents, read with OCR (knowledge.ocr).
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
    ".webp": "image",
    ".bmp": "image",
}
SUPPORTED_SUFFIXES = tuple(SUFFIX_KINDS)
CONTENT_TYPE_KINDS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "text/plain": "text",
    "text/markdown": "markdown",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "image/png": "image",
    "image/jpeg": "image",
    "image/tiff": "image",
    "image/webp": "image",
}


def kind_for(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIX_KINDS:
        shown = suffix or "(no extension)"
        raise ParseError(f"unsupported file type {shown}; kbot reads {', '.join(SUPPORTED_SUFFIXES)}")
    return SUFFIX_KINDS[suffix]


def check_size(size: int, limits: Limits) -> None:
    """Refuse empty and oversized input before reading or parsing it."""
    if size == 0:
        raise ParseError("empty file")
    if size > limits.max_bytes:
        raise ParseError(too_large(size, limits.max_bytes))


def parse_bytes(data: bytes, kind: str, limits: Limits,
                on_page: Callable[..., None] | None = None) -> ParsedDocument:
    """`on_page(read, total, stage)` follows a PDF's pages as the parser reads them (stage "reading",
    or "ocr" for a page read with OCR)."""
    check_size(len(data), limits)
    if kind == "pdf":
        from bot.rag.parsing.pdf import parse_pdf

        return parse_pdf(data, limits.pdf, on_page, limits.ocr)
    if kind == "image":
        from bot.rag.parsing.ocr import parse_image

        progress = (lambda number, total: on_page(number, total, "ocr")) if on_page is not None else None
        return parse_image(data, limits.ocr, progress)
    if kind == "docx":
        from bot.rag.parsing.docx import parse_docx

        return parse_docx(data)
    from bot.rag.parsing.text import decode_text

    warnings: list[str] = []
    text = decode_text(data, warnings)
    if kind == "html":
        from bot.rag.parsing.html import parse_html

        parsed = parse_html(text)
    elif kind == "markdown":
        from bot.rag.parsing.markdown import markdown_sections

        sections, title = markdown_sections(text)
        parsed = ParsedDocument(kind="markdown", sections=sections, title=title)
    else:
        stripped = text.strip()
        parsed = ParsedDocument(kind="text", sections=[Section(text=stripped)] if stripped else [])
    if not parsed.sections:
        raise ParseError("no text in the file (only whitespace)")
    parsed.warnings.extend(warnings)
    return parsed


def fetch_url(url: str, limits: Limits, fetcher: UrlFetcher) -> tuple[Fetched, str]:
    """The page's bytes and the kind to parse them as (from its content type, else its name)."""
    fetched = fetcher.fetch(url, limits.max_bytes, limits.url_timeout_s)
    kind = CONTENT_TYPE_KINDS.get(fetched.content_type)
    if kind is None:
        try:
            kind = kind_for(url.split("?")[0])
        except ParseError:
            raise ParseError(f"unsupported content type {fetched.content_type or 'unknown'!r} at that URL") from None
    return fetched, kind


def parse_url(url: str, limits: Limits, fetcher: UrlFetcher) -> tuple[ParsedDocument, bytes]:
    """The parsed page and the raw bytes it came from (for the content hash)."""
    fetched, kind = fetch_url(url, limits, fetcher)
    parsed = parse_bytes(fetched.data, kind, limits)
    parsed.url = fetched.url
    return parsed, fetched.data
