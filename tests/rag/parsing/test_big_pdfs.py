"""Big PDFs: pages stream from the parser with live progress, the time limit grows with the page count,
and a page cap refuses what no budget should be spent on."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.rag.knowledge_base import KnowledgeBase
from tests.support.samples import make_pdf, make_slow_pages_pdf

GLOBAL = ["global"]
WORDS = ["badger", "otter", "heron", "falcon", "beaver", "marten", "lynx", "stoat", "vole", "shrew"]


def _page(number: int) -> str:
    """A page unlike every other, so that no line of it reads as a running header."""
    words = random.Random(number).sample(WORDS * 2, 12)
    return f"The {' '.join(words[:6])} notes mention topic{number}.\nThen {' '.join(words[6:])} close it."


@pytest.mark.parametrize("parser", ["pdfium", "pypdf"])
def test_pages_are_reported_as_the_parser_reads_them(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for,
                                                     parser: str) -> None:
    pdf = make_pdf(tmp_path / "long.pdf", [_page(n) for n in range(1, 41)])
    reports: list[tuple[str, int, int]] = []
    outcome = indexer_for(keyword_kb, pdf_parser=parser).index_path(
        pdf, "long.pdf", on_progress=lambda stage, done, total: reports.append((stage, done, total)))
    assert outcome.status == "indexed" and outcome.pages == 40
    reading = [(done, total) for stage, done, total in reports if stage == "reading"]
    # The first page is reported with the whole count, while the other 39 are still unread.
    assert reading[0] == (1, 40) and reading[-1] == (40, 40)
    assert [done for done, _ in reading] == sorted(done for done, _ in reading)
    assert keyword_kb.search("topic37", GLOBAL)[0].meta["page"] == 37


def test_the_time_limit_grows_with_the_page_count(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    """Twelve slow pages (0.25 s each on the fastest VM seen, 0.7 s on a slower one) take far longer
    than a flat 1 s, and still fit the per-page budget. The scaled run's base leaves a loaded machine
    time to start the parser and count the pages."""
    pdf = make_slow_pages_pdf(tmp_path / "slow.pdf", pages=12)
    flat = indexer_for(keyword_kb, pdf_timeout_s=1, pdf_page_budget_s=0).index_path(pdf, "slow.pdf")
    assert flat.status == "failed" and "took longer than 1 s and was stopped" in flat.reason
    scaled = indexer_for(keyword_kb, pdf_timeout_s=3, pdf_page_budget_s=10).index_path(pdf, "slow.pdf")
    assert scaled.status == "indexed" and scaled.pages == 12


def test_more_pages_than_the_cap_are_refused_before_reading(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                             indexer_for) -> None:
    pdf = make_pdf(tmp_path / "five.pdf", [f"Page {n}." for n in range(1, 6)])
    reports: list[str] = []
    outcome = indexer_for(keyword_kb, pdf_max_pages=3).index_path(
        pdf, "five.pdf", on_progress=lambda stage, done, total: reports.append(stage))
    assert outcome.status == "failed"
    assert outcome.reason == "the PDF has 5 pages; kbot reads at most 3 (knowledge.pdf_max_pages)"
    assert reports == [] and keyword_kb.count_chunks() == 0
