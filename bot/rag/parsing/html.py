"""HTML to its main text (trafilatura), with headings kept as sections."""

from __future__ import annotations

from bot.rag.parsing.markdown import markdown_sections
from bot.rag.parsing.types import ParsedDocument, ParseError


def parse_html(html: str, url: str | None = None) -> ParsedDocument:
    import trafilatura
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else None
    main = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_formatting=True, favor_recall=True
    )
    if not main or not main.strip():
        # Short pages fall under trafilatura's size threshold: take the visible text instead.
        for tag in soup(["script", "style", "noscript", "template", "nav", "header", "footer", "aside"]):
            tag.decompose()
        main = soup.get_text("\n", strip=True)
    sections, heading_title = markdown_sections(main or "")
    if not sections:
        raise ParseError("no readable text in the HTML page")
    return ParsedDocument(kind="html", sections=sections, title=title or heading_title, url=url)
