"""Cleaner text and chunks that follow the document: what a real manual's passages look like once indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.pipeline.prompt_builder import to_sources
from tests.support.samples import make_structured_pdf

GLOBAL = ["global"]
PARSERS = pytest.mark.parametrize("parser", ["pdfium", "pypdf"])  # knowledge.pdf_parser: same text either way


def _chunks(kb: KnowledgeBase) -> list[tuple[str, dict]]:
    return sorted(((d.content or "", d.meta) for d in kb.backend.document_store.filter_documents()),
                  key=lambda pair: pair[1]["chunk_index"])


@PARSERS
@pytest.mark.parametrize("bookmarks", [True, False], ids=["outline", "numbered-headings"])
def test_pdf_contents_index_headers_and_hyphenation_are_cleaned(
        tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for, bookmarks: bool, parser: str) -> None:
    pdf = make_structured_pdf(tmp_path / "admin.pdf", outline=bookmarks)
    outcome = indexer_for(keyword_kb, pdf_parser=parser).index_path(pdf, "admin.pdf")
    assert outcome.status == "indexed" and outcome.pages == 6
    assert "2 contents or index page(s) not indexed as passages" in outcome.warnings
    chunks = _chunks(keyword_kb)
    text = "\n".join(content for content, _ in chunks)
    assert ". . . ." not in text and "Contents" not in text  # contents and index pages
    assert "Lumen Admin Guide" not in text and "Confidential" not in text  # running header and footer
    assert not any(line.strip().isdigit() for line in text.splitlines())  # page numbers
    assert "The schedule is set in backup.yaml" in text  # "sched-" + "ule" joined
    assert {meta["page"] for _, meta in chunks} == {2, 3, 5}


@pytest.mark.parametrize(("bookmarks", "path"), [
    (True, "Backups › Restoring a single table"),
    (False, "1 Backups › 1.1 Restoring a single table"),
], ids=["outline", "numbered-headings"])
@PARSERS
def test_pdf_sections_carry_their_heading_path_and_page_range(
        tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for, bookmarks: bool, path: str, parser: str) -> None:
    pdf = make_structured_pdf(tmp_path / "admin.pdf", outline=bookmarks)
    indexer_for(keyword_kb, pdf_parser=parser).index_path(pdf, "admin.pdf")
    hit = keyword_kb.search("restore scratch copy row count", GLOBAL)[0]
    assert hit.meta["heading"] == path
    assert (hit.meta["page"], hit.meta["page_end"]) == (3, 4)  # the section runs over the page break
    assert hit.content.startswith("1.1 Restoring a single table") and hit.content.endswith("for a week.")
    [source] = to_sources([hit])
    assert source.label() == f"Admin guide, pp. 3–4, {path}"
    alerts = keyword_kb.search("pager bot on-call", GLOBAL)[0]
    assert alerts.meta["heading"].endswith("Alerts") and "page_end" not in alerts.meta
    assert "Grafana" not in alerts.content  # chunks end at section boundaries


@PARSERS
def test_pdf_outline_survives_a_damaged_bookmark_list(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                      indexer_for, parser: str) -> None:
    """Bookmarks pointing nowhere cost their headings, never the document."""
    from pypdf import PdfReader, PdfWriter

    source = PdfReader(make_structured_pdf(tmp_path / "admin.pdf", outline=False))
    writer = PdfWriter()
    for page in source.pages:
        writer.add_page(page)
    writer.add_outline_item("Backups", 1)
    writer.add_outline_item("Ghost chapter", 1)  # a title that appears nowhere on the page
    with open(tmp_path / "odd.pdf", "wb") as out:
        writer.write(out)
    outcome = indexer_for(keyword_kb, pdf_parser=parser).index_path(tmp_path / "odd.pdf", "odd.pdf")
    assert outcome.status == "indexed"
    assert keyword_kb.search("schedule backup.yaml", GLOBAL)[0].meta["page"] == 2


def test_html_inline_elements_stay_in_their_sentence(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                     indexer_for) -> None:
    page = tmp_path / "tool.html"
    page.write_text(
        "<html><head><title>Tool guide</title></head><body>"
        "<div class='sphinxsidebar'><a href='/'>Home</a> <a href='/next'>Next topic</a></div>"
        "<div role='main'><h1>Tool guide<a class='headerlink' href='#t'>¶</a></h1>"
        "<h2>Exit status</h2>"
        "<p>The <code>tool</code> command returns\n<em>0</em> to the shell if <a href='#ok'>all went well</a>,"
        " and <strong>1</strong> otherwise.</p>"
        "<pre>tool --check\necho $?</pre>"
        "<ul><li>First step.</li><li>Second step.</li></ul>"
        "<table><tr><th>Code</th><th>Meaning</th></tr><tr><td>0</td><td>success</td></tr></table>"
        "</div><div class='footer'>© Lumen Works</div></body></html>")
    indexer_for(keyword_kb).index_path(page, "tool.html")
    hit = keyword_kb.search("returns shell", GLOBAL)[0]
    assert "The `tool` command returns 0 to the shell if all went well, and 1 otherwise." in hit.content
    assert "```\ntool --check\necho $?\n```" in hit.content
    assert "- First step.\n- Second step." in hit.content and "Code | Meaning\n0 | success" in hit.content
    assert hit.meta["heading"] == "Tool guide › Exit status"
    assert "¶" not in hit.content and "¶" not in hit.meta["heading"]
    assert keyword_kb.search("Next topic", GLOBAL) == [] and keyword_kb.search("Lumen", GLOBAL) == []


def test_docx_lists_and_tables_read_as_in_word(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Release checklist", level=1)
    document.add_heading("Before the release", level=2)
    document.add_paragraph("Freeze the branch.", style="List Bullet")
    document.add_paragraph("Tag the commit.", style="List Number")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Step", "Owner"), ("Tag", "Release manager")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.save(tmp_path / "release.docx")
    indexer_for(keyword_kb).index_path(tmp_path / "release.docx", "release.docx")
    hit = keyword_kb.search("freeze branch", GLOBAL)[0]
    assert "- Freeze the branch.\n1. Tag the commit." in hit.content
    assert "| Step | Owner |\n| Tag | Release manager |" in hit.content
    assert hit.meta["heading"] == "Release checklist › Before the release"


def test_markdown_heading_paths_tables_and_sentence_bounded_passages(
        tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    prose = " ".join(f"Step {i} of the restore takes about two minutes." for i in range(60))
    (tmp_path / "ops.md").write_text(
        f"# Admin guide\n\n## 4 Backups\n\n### 4.2 Restoring a single table\n\n{prose}\n\n"
        "| Table | Owner |\n|---|---|\n| users | identity team |\n")
    indexer_for(keyword_kb, chunk_words=60, chunk_overlap_words=10).index_path(tmp_path / "ops.md", "ops.md")
    chunks = _chunks(keyword_kb)
    assert len(chunks) > 5
    for content, meta in chunks:
        assert meta["heading"] == "Admin guide › 4 Backups › 4.2 Restoring a single table"
        assert content[0].isupper() or content.startswith("|"), content[:20]
        assert content.endswith((".", "|")), content[-20:]
    assert "| Table | Owner |\n|---|---|\n| users | identity team |" in chunks[-1][0]


def test_ligatures_and_look_alike_characters_are_folded(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                        indexer_for) -> None:
    (tmp_path / "notes.txt").write_text("The ﬁnal conﬁguration uses ${name:−default} and\u00a0tabs.")
    indexer_for(keyword_kb).index_path(tmp_path / "notes.txt", "notes.txt")
    hit = keyword_kb.search("final configuration", GLOBAL)[0]
    assert hit.content == "The final configuration uses ${name:-default} and tabs."



def test_a_command_entry_starts_its_own_passage_and_names_its_heading(
        tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    from tests.support.samples import COMMAND_REFERENCE, make_command_reference_pdf

    pdf = make_command_reference_pdf(tmp_path / "lumenctl.pdf")
    assert indexer_for(keyword_kb).index_path(pdf, "lumenctl.pdf").status == "indexed"
    chunks = _chunks(keyword_kb)
    for name, (synopsis, _) in COMMAND_REFERENCE.items():
        [entry] = [(content, meta) for content, meta in chunks if synopsis in content]  # one passage each
        assert entry[0].startswith(f"{name}\n{synopsis}\n")  # not the previous command's tail
        assert entry[1]["heading"] == f"Commands › {name}"
    assert chunks[0][1]["heading"] == "Commands"  # the introduction belongs to no command
    hit = keyword_kb.search("bring back one table from a snapshot", GLOBAL)[0]
    assert hit.meta["heading"] == "Commands › restore"
    [source] = to_sources([hit])
    assert source.label().endswith("Commands › restore")
