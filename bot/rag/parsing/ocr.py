"""OCR for pages without a text layer (scanned PDFs) and for images, run in the OCR child process
(bot/rag/parsing/ocr_worker.py) with its own memory cap and a deadline that grows per page read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.rag.parsing.child import ChildParser
from bot.rag.parsing.ocr_worker import MEMORY_REASON
from bot.rag.parsing.types import OCR_BYTES_PER_PAGE, OcrLimits, ParsedDocument, ParseError, Section

# (page being read, pages in the document); called as each page starts.
OcrProgress = Callable[[int, int], None]

OFF = "images and scanned pages are read with OCR, which is switched off here (knowledge.ocr)"


@dataclass
class OcrResult:
    texts: dict[int, str] = field(default_factory=dict)  # page number -> recognized text
    unreadable: list[int] = field(default_factory=list)  # pages where OCR found nothing it trusts
    blank: list[int] = field(default_factory=list)  # pages with no ink at all (never given to OCR)
    frames: int = 0  # an image's pages


def run_ocr(data: bytes, kind: str, pages: list[int], limits: OcrLimits, total: int,
            on_page: OcrProgress | None = None) -> OcrResult:
    """Read `pages` (1-based) of a PDF (`kind` "pdf") or an image's frames ("image") with OCR."""
    child = ChildParser("bot.rag.parsing.ocr_worker",
                        [str(limits.memory_mb), str(limits.dpi), kind, ",".join(map(str, pages))], data,
                        what="OCR", memory_reason=MEMORY_REASON.format(mb=limits.memory_mb))
    result = OcrResult()
    started = 0

    def deadline_s() -> float:  # each page OCR starts adds its budget
        return limits.deadline_s(started)

    def too_slow() -> str:
        return (f"OCR took longer than {deadline_s():g} s ({limits.timeout_s:g} s + {limits.page_budget_s:g} s "
                f"for each of {started} page(s), knowledge.ocr_page_budget_s) and was stopped")

    try:
        for record in child.records(deadline_s, too_slow):
            if "frames" in record:
                result.frames = total = int(record["frames"])
            elif "start" in record:
                started += 1
                if on_page is not None:
                    on_page(int(record["start"]), max(total, 1))
            elif "page" in record:
                number, text = int(record["page"]), str(record.get("text") or "").strip()
                if record.get("blank"):
                    result.blank.append(number)
                elif text and float(record.get("score") or 0.0) >= limits.min_score:
                    result.texts[number] = text
                else:
                    result.unreadable.append(number)
            elif "ok" in record:
                if not record["ok"]:
                    raise ParseError(str(record.get("reason") or "OCR failed"))
                return result
    finally:
        child.close()
    raise ParseError("OCR stopped unexpectedly; the file may be damaged")


def page_list(numbers: list[int]) -> str:
    """`3`, `pages 3, 7–9`: page numbers as people read them."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    shown = ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)
    return f"page {shown}" if len(numbers) == 1 else f"pages {shown}"


def unread_warnings(unreadable: list[int], skipped: list[int], cap: int, configured: int,
                    blank: list[int] | None = None) -> list[str]:
    warnings = []
    if blank:
        warnings.append(f"{page_list(blank)}: blank, nothing to read")
    if unreadable:
        warnings.append(f"{page_list(unreadable)}: no text layer, and OCR found no readable text")
    if skipped and cap >= configured:
        warnings.append(f"{page_list(skipped)}: no text layer, not read (OCR reads at most {cap} pages a file, "
                        "knowledge.ocr_max_pages)")
    elif skipped:
        warnings.append(f"{page_list(skipped)}: no text layer, not read (OCR reads at most {cap} pages of a file "
                        f"this size: one per {OCR_BYTES_PER_PAGE // 1000} KB)")
    return warnings


def parse_image(data: bytes, limits: OcrLimits, on_page: OcrProgress | None = None) -> ParsedDocument:
    """A photo or scan of a document (PNG, JPEG, TIFF, WebP, BMP); a multi-page TIFF keeps its pages."""
    if not limits.enabled:
        raise ParseError(OFF)
    cap = limits.pages_for(len(data))
    result = run_ocr(data, "image", list(range(1, cap + 1)), limits, 0, on_page)
    if not result.texts:
        if result.blank and not result.unreadable:
            raise ParseError(f"no text in the image: {'its' if result.frames > 1 else 'it is'} "
                             f"{'pages are ' if result.frames > 1 else ''}blank")
        raise ParseError("no readable text in the image (OCR found none; is it a photo of a document?)")
    several = result.frames > 1
    sections = [Section(text=text, page=number if several else None) for number, text in sorted(result.texts.items())]
    skipped = list(range(cap + 1, result.frames + 1))
    return ParsedDocument(kind="image", sections=sections, page_count=result.frames if several else None,
                          warnings=unread_warnings(result.unreadable, skipped, cap, limits.max_pages, result.blank))
