"""Convert and clean: bytes of a known kind into sections of text (a PDF is read in a child process
with its own time and memory limits, see bot/rag/parsing/pdf.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, ClassVar

from haystack import component, default_to_dict

from bot.rag.parsing import Limits, ParsedDocument, parse_bytes

# Control characters other than tab and newline, soft hyphens and zero-width marks: invisible in the
# document, but they split words for keyword search.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


@component
class DocumentConverter:
    """Raises ParseError (a one-line reason for the person) for anything it cannot read."""

    RESOURCES: ClassVar[tuple[str, ...]] = ("limits",)

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits(max_bytes=20_000_000)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self)

    @component.output_types(parsed=ParsedDocument)
    def run(self, data: bytes, kind: str, url: str | None = None) -> dict[str, ParsedDocument]:
        parsed = parse_bytes(data, kind, self.limits)
        if url:
            parsed.url = url
        return {"parsed": parsed}


def clean_text(text: str) -> str:
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("\n", text)).strip()


@component
class TextCleaner:
    """Invisible characters out, runs of blank lines shortened, empty sections dropped."""

    @component.output_types(parsed=ParsedDocument)
    def run(self, parsed: ParsedDocument) -> dict[str, ParsedDocument]:
        sections = [replace(s, text=cleaned) for s in parsed.sections if (cleaned := clean_text(s.text))]
        return {"parsed": replace(parsed, sections=sections)}
