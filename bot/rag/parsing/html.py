"""HTML to its main text as Markdown-like sections, with each heading's path kept.

Pages with a marked main area (`<main>`, `<article>`, `role="main"`, Sphinx's `div.body`) are read
structurally: block elements break lines, inline ones (`<code>`, `<em>`, links) stay inside their
sentence, `<pre>` stays whole, tables become `a | b` rows, lists `- item`. Pages without one go
through trafilatura, which removes the boilerplate of ordinary web pages well.
"""

# Imports inside functions: BeautifulSoup and trafilatura load at the first web page.

from __future__ import annotations

import re
from typing import Any

from bot.rag.parsing.markdown import markdown_sections
from bot.rag.parsing.types import ParsedDocument, ParseError

_BOILERPLATE = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg",
                "button", "iframe", "object"]
_BOILERPLATE_CLASSES = re.compile(r"\b(headerlink|sphinxsidebar|related|breadcrumbs?|navbar|nav|menu|sidebar|"
                                  r"footer|cookie|skip-link|toc|mobile-nav|edit-this-page)\b", re.IGNORECASE)
_BLOCKS = {"p", "div", "section", "article", "main", "blockquote", "dl", "dt", "dd", "figure", "figcaption",
           "address", "details", "summary", "center", "hr", "ul", "ol", "table", "caption"}
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_MD_HEADING = re.compile(r"^#{1,6} ", re.MULTILINE)
_SPACE = re.compile(r"[ \t\r\f\v]+")


def _main_root(soup: Any) -> Any | None:
    return (soup.find("main") or soup.find(attrs={"role": "main"}) or soup.find("article")
            or soup.find("div", class_="body") or soup.find("div", id="content"))


def _drop_boilerplate(root: Any) -> None:
    for tag in root(_BOILERPLATE):
        tag.decompose()
    marked = [tag for tag in root.find_all(True) if tag.name not in ("html", "body", "main", "article")
              and _BOILERPLATE_CLASSES.search(" ".join(tag.get("class") or []) + " " + str(tag.get("role") or ""))]
    for tag in marked:
        if not getattr(tag, "decomposed", False):
            tag.decompose()


class _Writer:
    """Markdown-ish text from a tree: inline text joins its line, blocks start new lines."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def text(self, value: str) -> None:
        value = _SPACE.sub(" ", value.replace("\n", " "))
        if not value.strip() and (not self.out or self.out[-1].endswith(("\n", " "))):
            return
        self.out.append(value)

    def block(self, blank: bool = False) -> None:
        joined = "".join(self.out[-2:])
        if not self.out or joined.endswith("\n\n") or (not blank and joined.endswith("\n")):
            return
        self.out.append("\n\n" if blank else "\n")

    def raw(self, value: str) -> None:
        self.out.append(value)

    def result(self) -> str:
        lines = [line.strip() for line in "".join(self.out).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


MAX_DEPTH = 120  # deeper nesting (hostile or generated pages) is read as plain text, not recursed into


def _walk(node: Any, writer: _Writer, list_depth: int = 0, depth: int = 0) -> None:
    from bs4.element import Comment, NavigableString, Tag

    if depth > MAX_DEPTH:
        writer.text(node.get_text(" "))
        return
    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            writer.text(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _HEADINGS:
            text = " ".join(child.get_text(" ", strip=True).split())
            if text:
                writer.block(blank=True)
                writer.raw(f"{'#' * _HEADINGS[name]} {text}\n\n")
        elif name == "pre":
            code = child.get_text().strip("\n")
            if code.strip():
                writer.block(blank=True)
                writer.raw(f"```\n{code}\n```\n\n")
        elif name == "br":
            writer.raw("\n")
        elif name == "li":
            writer.block()
            marker = "1." if child.parent is not None and child.parent.name == "ol" else "-"
            writer.raw("  " * list_depth + f"{marker} ")
            _walk(child, writer, list_depth + 1, depth + 1)
            writer.block()
        elif name == "tr":
            cells = [" ".join(cell.get_text(" ", strip=True).split()) for cell in child.find_all(["td", "th"])]
            if any(cells):
                writer.block()
                writer.raw(" | ".join(cells) + "\n")
        elif name in ("ul", "ol"):
            writer.block()
            _walk(child, writer, list_depth, depth + 1)
            writer.block()
        elif name in _BLOCKS:
            writer.block(blank=name in ("p", "blockquote", "table", "dl"))
            _walk(child, writer, list_depth, depth + 1)
            writer.block(blank=name in ("p", "blockquote", "table", "dl"))
        elif name == "code" and child.find_parent("pre") is None:
            writer.text(f"`{child.get_text()}`")
        else:
            _walk(child, writer, list_depth, depth + 1)


def structural_markdown(root: Any) -> str:
    writer = _Writer()
    _walk(root, writer)
    return writer.result()


def parse_html(html: str, url: str | None = None) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = " ".join(soup.title.get_text(" ", strip=True).split()) if soup.title else None
    root = _main_root(soup)
    text = ""
    if root is not None:
        _drop_boilerplate(root)
        text = structural_markdown(root)
    if not text:
        import trafilatura

        text = trafilatura.extract(html, output_format="markdown", include_tables=True, include_formatting=True,
                                   favor_recall=True) or ""
        if not _MD_HEADING.search(text):
            body = soup.body or soup
            _drop_boilerplate(body)
            structural = structural_markdown(body)
            text = structural if _MD_HEADING.search(structural) or not text else text
    sections, heading_title = markdown_sections(text)
    if not sections:
        raise ParseError("no readable text in the HTML page")
    return ParsedDocument(kind="html", sections=sections, title=title or heading_title, url=url)
