"""DOCX paragraphs and tables in document order, split at Heading/Title styles."""

from __future__ import annotations

import io
import zipfile

from bot.rag.parsing.types import ParsedDocument, ParseError, Section


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
            if text and (style.startswith("Heading") or style == "Title"):
                flush()
                heading = text
                title = title or (text if style == "Title" or style == "Heading 1" else None)
            elif text:
                lines.append(text)
        elif tag == "tbl":
            for row in Table(block, document).rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
    flush()
    if not sections:
        raise ParseError("the Word document has no text")
    return ParsedDocument(kind="docx", sections=sections, title=title)
