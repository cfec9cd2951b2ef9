"""Offline OCR: scanned PDF pages and images are read (RapidOCR, models inside its wheel), with page
progress, page numbers kept, and what OCR cannot read reported rather than dropped."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.parsing import Limits, OcrLimits, ParseError, parse_bytes
from tests.support.samples import make_image_pdf, page_image

RESTORE = ["Backups and restores", "To restore a single table, stop the writer", "and run kbot restore --table users."]
WHITEBOARD = ["Release checklist", "Deploy on Tuesdays only", "Freeze starts at noon."]


def _png(lines: list[str], kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    page_image(lines).save(buffer, kind)
    return buffer.getvalue()


def test_scanned_pages_are_read_with_progress_and_blank_ones_reported(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                                       indexer_for) -> None:
    pdf = make_image_pdf(tmp_path / "scan.pdf", [RESTORE, "Typeset page two: the VPN server is vpn.example.com.", []])
    seen: list[tuple[str, int, int]] = []
    outcome = indexer_for(keyword_kb).index_path(pdf, "scan.pdf", on_progress=lambda *step: seen.append(step))
    assert outcome.status == "indexed", outcome.reason
    assert outcome.warnings == ["page 3: blank, nothing to read"]  # found blank before OCR
    assert ("ocr", 1, 3) in seen and ("ocr", 3, 3) in seen and ("ocr", 2, 3) not in seen  # page 2 has text
    [hit] = keyword_kb.search("restore a single table", ["global"], top_k=1)
    assert hit.meta["page"] == 1 and "kbot restore --table users" in hit.content
    [typeset] = keyword_kb.search("VPN server", ["global"], top_k=1)
    assert typeset.meta["page"] == 2


def test_images_are_read_and_a_multipage_tiff_keeps_its_pages(tmp_path: Path, keyword_kb: KnowledgeBase,
                                                              indexer_for) -> None:
    indexer = indexer_for(keyword_kb)
    for name, kind in (("board.png", "PNG"), ("board.jpg", "JPEG")):
        path = tmp_path / name
        path.write_bytes(_png(WHITEBOARD, kind))
        outcome = indexer.index_path(path, name)
        assert outcome.status == "indexed" and outcome.chunks == 1, outcome.reason
        [hit] = keyword_kb.search("deploy Tuesdays", ["global"], top_k=1)
        assert hit.meta["source"] in ("board.png", "board.jpg") and hit.meta.get("page") is None
    frames = [page_image(RESTORE), page_image(WHITEBOARD)]
    tiff = tmp_path / "fax.tiff"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    assert indexer.index_path(tiff, "fax.tiff").status == "indexed"
    pages = {d.meta["page"] for d in keyword_kb.search("restore freeze noon table", ["global"], top_k=5)
             if d.meta["source"] == "fax.tiff"}
    assert pages == {1, 2}


def test_the_page_cap_reports_what_it_did_not_read(tmp_path: Path) -> None:
    pdf = make_image_pdf(tmp_path / "long.pdf", [RESTORE, WHITEBOARD, WHITEBOARD])
    parsed = parse_bytes(pdf.read_bytes(), "pdf", Limits(max_bytes=10**8, ocr=OcrLimits(max_pages=1)))
    assert [s.page for s in parsed.sections] == [1]
    assert parsed.warnings == ["pages 2–3: no text layer, not read (OCR reads at most 1 pages a file, "
                               "knowledge.ocr_max_pages)"]


def test_ocr_past_its_budget_is_stopped(tmp_path: Path) -> None:
    pdf = make_image_pdf(tmp_path / "scan.pdf", [RESTORE])
    slow = Limits(max_bytes=10**8, ocr=OcrLimits(timeout_s=0.2, page_budget_s=0.1))
    with pytest.raises(ParseError, match=r"OCR took longer than 0\.\d+ s .* and was stopped"):
        parse_bytes(pdf.read_bytes(), "pdf", slow)


def test_too_little_memory_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="OCR (hit|could not start within) the 300 MB memory cap"):
        parse_bytes(_png(WHITEBOARD), "image", Limits(max_bytes=10**8, ocr=OcrLimits(memory_mb=300)))


def test_pages_with_nothing_on_them_are_not_read_or_reported(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Chapter one: the VPN server is vpn.example.com.")
    pdf.add_page()  # left blank on purpose, as between chapters
    pdf.add_page()
    pdf.image(page_image(RESTORE), x=0, y=0, w=210, h=297)
    path = tmp_path / "book.pdf"
    pdf.output(str(path))
    seen: list[tuple[int, int, str]] = []
    parsed = parse_bytes(path.read_bytes(), "pdf", Limits(max_bytes=10**8),
                         lambda done, total, stage="reading": seen.append((done, total, stage)))
    assert [s.page for s in parsed.sections] == [1, 3] and parsed.warnings == []
    assert [step for step in seen if step[2] == "ocr"] == [(3, 3, "ocr")]
