"""Convert and clean: bytes of a known kind into sections of text (a PDF is read in a child process
with its own time and memory limits, see bot/rag/parsing/pdf.py)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from typing import Any, ClassVar

from haystack import component, default_to_dict

from bot.rag.parsing import Limits, ParsedDocument, ParseError, Section, parse_bytes
from bot.rag.parsing.pdf_layout import Page, structure_pdf
from bot.rag.pipeline.writers import ProgressFn

# Control characters other than tab and newline, soft hyphens and zero-width marks: invisible in the
# document, but they split words for keyword search.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")
# Look-alikes NFKC leaves alone: the minus sign, dashes and odd spaces typeset documents use.
_LOOKALIKES = str.maketrans({"\u2212": "-", "\u2010": "-", "\u2011": "-", "\u00a0": " ", "\u2009": " ",
                             "\u202f": " ", "\u2007": " "})
_SPACES = re.compile(r"[ \t]{2,}")


@component
class DocumentConverter:
    """Gives `failed`, a one-line reason for the person, for anything it cannot read, and no `parsed`,
    so the rest of the pipeline does not run. (Raising would do too, but Haystack answers an exception
    with a snapshot of the pipeline's inputs: the document's bytes deep-copied several times over and
    three warnings in the log that they cannot be serialised, for every bad upload.)"""

    RESOURCES: ClassVar[tuple[str, ...]] = ("limits",)

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits(max_bytes=20_000_000)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self)

    @component.output_types(parsed=ParsedDocument, failed=str)
    def run(self, data: bytes, kind: str, url: str | None = None,
            on_progress: ProgressFn | None = None) -> dict[str, Any]:
        on_page = ((lambda done, total, stage="reading": on_progress(stage, done, total))
                   if on_progress is not None else None)
        try:
            parsed = parse_bytes(data, kind, self.limits, on_page)
        except ParseError as exc:
            return {"failed": exc.reason}
        if url:
            parsed.url = url
        return {"parsed": parsed}


def clean_text(text: str, squeeze_spaces: bool = False) -> str:
    """Ligatures and compatibility forms folded (NFKC), invisible characters out, blank lines shortened."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n")).translate(_LOOKALIKES)
    text = _INVISIBLE.sub("", text)
    if squeeze_spaces:  # PDF text: runs of spaces are layout, not meaning
        text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("\n", text)).strip()


def _clean_section(section: Section) -> Section | None:
    if not section.page_breaks:
        cleaned = clean_text(section.text)
        return replace(section, text=cleaned) if cleaned else None
    # Clean page by page so that each page still starts where the section says it does.
    bounds = [0, *[start for start, _ in section.page_breaks], len(section.text)]
    pages = [section.page or 1, *[page for _, page in section.page_breaks]]  # a section with breaks has its page
    kept = [(page, part) for (start, end), page in zip(zip(bounds, bounds[1:], strict=False), pages, strict=False)
            if (part := clean_text(section.text[start:end]))]
    if not kept:
        return None
    breaks, length = [], len(kept[0][1])
    for page, part in kept[1:]:
        breaks.append((length + 1, page))
        length += 1 + len(part)
    return replace(section, text="\n".join(part for _, part in kept), page=kept[0][0], page_breaks=tuple(breaks))


@component
class TextCleaner:
    """Text as people read it: compatibility characters folded, invisible ones out, empty sections dropped;
    a PDF also loses its contents and index pages and running headers, gets hyphenated words joined,
    and is cut into sections at its bookmarks (bot/rag/parsing/pdf_layout.py)."""

    @component.output_types(parsed=ParsedDocument)
    def run(self, parsed: ParsedDocument) -> dict[str, ParsedDocument]:
        if parsed.kind == "pdf" and all(not s.page_breaks and s.heading is None for s in parsed.sections):
            pages = [Page(s.page or 0, clean_text(s.text, squeeze_spaces=True)) for s in parsed.sections]
            sections, warnings = structure_pdf([p for p in pages if p.text], parsed.outline)
            return {"parsed": replace(parsed, sections=sections, warnings=[*parsed.warnings, *warnings])}
        sections = [cleaned for s in parsed.sections if (cleaned := _clean_section(s)) is not None]
        return {"parsed": replace(parsed, sections=sections)}
