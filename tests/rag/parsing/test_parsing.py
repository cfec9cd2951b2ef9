"""Each format is indexed with the metadata it carries: PDF pages, headings, titles, URLs."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.rag.knowledge_base import KnowledgeBase
from tests.fakes.http_site import serve
from tests.support.samples import make_docx, make_pdf

GLOBAL = ["global"]


def _chunks(kb: KnowledgeBase) -> list[dict]:
    return sorted((meta for _, meta in kb.chunk_metadata()), key=lambda m: m["chunk_index"])


def test_pdf_keeps_page_numbers(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    pdf = make_pdf(tmp_path / "guide.pdf", ["Alpha page about badgers.", "Beta page about otters.",
                                            "Gamma page about herons."], title="Animal guide")
    outcome = indexer_for(keyword_kb).index_path(pdf, "guide.pdf")
    assert (outcome.status, outcome.pages, outcome.chunks) == ("indexed", 3, 3)
    metas = _chunks(keyword_kb)
    assert [m["page"] for m in metas] == [1, 2, 3]
    assert {m["title"] for m in metas} == {"Animal guide"}
    hit = keyword_kb.search("otters", GLOBAL)[0]
    assert hit.meta["page"] == 2 and hit.meta["kind"] == "pdf"


def test_markdown_sections_carry_their_heading(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    md = tmp_path / "ops.md"
    md.write_text("# Operations\n\nIntro text.\n\n## Backups\n\nBackups run nightly at 02:00.\n\n"
                  "```\n# not a heading inside code\n```\n\n## Restores\n\nRestores need two approvals.\n")
    indexer_for(keyword_kb).index_path(md, "ops.md")
    hit = keyword_kb.search("approvals", GLOBAL)[0]
    assert hit.meta["heading"] == "Operations › Restores"
    assert hit.meta["title"] == "Operations"
    backups = keyword_kb.search("nightly", GLOBAL)[0]
    assert backups.meta["heading"] == "Operations › Backups" and "# not a heading" in backups.content


def test_markdown_of_headings_alone_is_indexed_by_them(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                      indexer_for) -> None:
    """Before, every line being a heading left no body: "no text in the file (only whitespace)"."""
    md = tmp_path / "outline.md"
    md.write_text("# Release checklist\n\n## Tag the release in git\n\n## Announce it in #general\n")
    outcome = indexer_for(keyword_kb).index_path(md, "outline.md")
    assert outcome.status == "indexed", outcome.reason
    hit = keyword_kb.search("announce", GLOBAL)[0]
    assert "Announce it in #general" in hit.content and hit.meta["title"] == "Release checklist"


def test_an_unreadable_file_fails_with_its_reason_and_a_quiet_log(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                                   indexer_for, caplog) -> None:
    """Before, the reason came through an exception, and Haystack answered it with a snapshot of the
    pipeline's inputs: three warnings that the document's bytes could not be serialised."""
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 5000)
    with caplog.at_level(logging.DEBUG):
        outcome = indexer_for(keyword_kb).index_path(fake, "report.pdf")
    assert (outcome.status, outcome.reason) == ("failed", "not a PDF: the file is a PNG image")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]
    assert keyword_kb.count_chunks() == 0


def test_docx_headings_and_tables(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    path = make_docx(tmp_path / "rituals.docx")
    outcome = indexer_for(keyword_kb).index_path(path, "rituals.docx")
    assert outcome.status == "indexed"
    hit = keyword_kb.search("standup", GLOBAL)[0]
    assert hit.meta["heading"] == "Team rituals › Standups" and hit.meta["title"] == "Team rituals"
    table_hit = keyword_kb.search("alphabetically", GLOBAL)[0]
    assert table_hit.meta["heading"] == "Team rituals › Retrospectives" and "Facilitator" in table_hit.content


def test_html_main_text_and_headings(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Parking</title><script>var tracking = 1;</script></head><body>"
                    "<nav>Home | About</nav><h1>Parking</h1><h2>Bicycles</h2>"
                    "<p>Bicycle racks are in the courtyard behind building B.</p></body></html>")
    indexer_for(keyword_kb).index_path(page, "page.html")
    hit = keyword_kb.search("bicycle racks", GLOBAL)[0]
    assert hit.meta["title"] == "Parking" and hit.meta["heading"] == "Parking › Bicycles"
    assert keyword_kb.search("tracking", GLOBAL) == []


def test_plain_text_and_chunk_metadata(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    text = tmp_path / "notes.txt"
    text.write_text(" ".join(f"word{i}" for i in range(400)))
    outcome = indexer_for(keyword_kb, chunk_words=150, chunk_overlap_words=30).index_path(
        text, "notes.txt", scope="slack:T1", uploader="U42"
    )
    # windows start at words 0, 120 and 240; the last 10 words join the third window
    assert outcome.chunks == 3
    metas = _chunks(keyword_kb)
    for meta in metas:
        assert meta["source"] == "notes.txt" and meta["scope"] == "slack:T1" and meta["uploader"] == "U42"
        assert len(meta["content_hash"]) == 64 and meta["indexed_at"].endswith("+00:00")
    overlap = keyword_kb.search("word125", ["slack:T1"], top_k=5)
    assert {d.meta["chunk_index"] for d in overlap} == {0, 1}


def test_url_is_fetched_and_cited_by_its_address(keyword_kb: KnowledgeBase, indexer_for) -> None:
    body = b"<html><head><title>Wiki: Deploys</title></head><body><h1>Deploys</h1>" \
           b"<p>Production deploys are frozen on Fridays after 14:00.</p></body></html>"
    with serve({"/deploys": (200, "text/html; charset=utf-8", body)}) as base:
        outcome = indexer_for(keyword_kb).index_url(f"{base}/deploys")
        assert outcome.status == "indexed"
        hit = keyword_kb.search("frozen fridays", GLOBAL)[0]
        assert hit.meta["source"] == f"{base}/deploys" and hit.meta["url"] == f"{base}/deploys"
        assert hit.meta["title"] == "Wiki: Deploys"
