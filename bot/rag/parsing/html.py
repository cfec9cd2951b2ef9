"""HTML to its main text, with headings kept as sections.

trafilatura removes boilerplate well on real web pages but drops heading structure on small ones;
a plain structural pass (main/article, headings as Markdown) covers those.
"""

from __future__ import annotations

import re
from typing import Any

from bot.rag.parsing.markdown import markdown_sections
from bot.rag.parsing.types import ParsedDocument, ParseError

_BOILERPLATE = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg"]
_MD_HEADING = re.compile(r"^#{1,6} ", re.MULTILINE)


def _structural_markdown(soup: Any) -> str:
    for tag in soup(_BOILERPLATE):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    for level in range(1, 7):
        for heading in root.find_all(f"h{level}"):
            text = heading.get_text(" ", strip=True)
            heading.replace_with(f"\n\n{'#' * level} {text}\n\n" if text else "")
    return root.get_text("\n", strip=False)


def parse_html(html: str, url: str | None = None) -> ParsedDocument:
    import trafilatura
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else None
    extracted = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_formatting=True, favor_recall=True
    ) or ""
    structural = _structural_markdown(soup)
    if _MD_HEADING.search(extracted) or not _MD_HEADING.search(structural):
        text = extracted or structural
    else:
        text = structural
    text = re.sub(r"\n\s*\n+", "\n\n", text)
    sections, heading_title = markdown_sections(text)
    if not sections:
        raise ParseError("no readable text in the HTML page")
    return ParsedDocument(kind="html", sections=sections, title=title or heading_title, url=url)
