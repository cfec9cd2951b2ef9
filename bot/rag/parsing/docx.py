"""DOCX paragraphs and tables in document order, split at Heading/Title styles into sections with a
heading path; list items keep a marker and tables a header row, so both read as they do in Word."""

# Imports inside functions: python-docx loads at the first Word file.

from __future__ import annotations

import io
import zipfile

from bot.rag.parsing.types import ParsedDocument, ParseError, Section, enter_heading


def _heading_level(style: str) -> int | None:
    if style == "Title":
        return 0
    if style.startswith("Heading"):
        number = style.removeprefix("Heading").strip()
        return int(number) if number.isdigit() else 1
    return None


def _list_marker(paragraph: object, style: str) -> str | None:
    """`- ` or `1. ` for a list item (a List style, or Word numbering on the paragraph), else None."""
    p_pr = getattr(getattr(paragraph, "_p", None), "pPr", None)
    numbered = p_pr is not None and p_pr.numPr is not None
    if not (numbered or style.startswith("List")):
        return None
    depth = 0
    if numbered and p_pr is not None and p_pr.numPr.ilvl is not None and p_pr.numPr.ilvl.val is not None:
        depth = int(p_pr.numPr.ilvl.val)
    return "  " * depth + ("1. " if "Number" in style else "- ")


def parse_docx(data: bytes) -> ParsedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ParseError("not a valid DOCX file (corrupt, or not really a Word document)") from exc

    sections: list[Section] = []
    heading: str | None = None
    path: list[tuple[int, str]] = []
    title = (document.core_properties.title or "").strip() or None
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(text=body, heading=heading))
        lines.clear()

    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(block, document)
            text = paragraph.text.strip()
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = _heading_level(style)
            if text and level is not None:
                flush()
                path, heading = enter_heading(path, level, text)
                title = title or (text if level <= 1 else None)
            elif text:
                marker = _list_marker(paragraph, style)
                lines.append(marker + text if marker else text)
        elif tag == "tbl":
            lines.append("")  # a table is a block of its own
            for row in Table(block, document).rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                if any(cells):
                    lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    flush()
    if not sections:
        raise ParseError("the Word document has no text")
    return ParsedDocument(kind="docx", sections=sections, title=title)
