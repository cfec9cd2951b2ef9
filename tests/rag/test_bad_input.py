"""Every bad input gets its own one-line reason and leaves the knowledge base exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.rag.indexing import Indexer
from bot.rag.knowledge_base import KnowledgeBase
from tests.fakes.http_site import closed_port_url, serve
from tests.samples import PNG_BYTES, make_bomb_pdf, make_encrypted_pdf, make_scanned_pdf, make_slow_pdf


def _snapshot(kb: KnowledgeBase) -> list[tuple[str, dict]]:
    return sorted(kb.chunk_metadata(), key=lambda item: item[0])


@pytest.fixture
def seeded(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> tuple[KnowledgeBase, Indexer]:
    """A knowledge base that already holds one document, to prove bad input does not touch it."""
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nThe cafeteria serves lunch from noon.\n")
    indexer = indexer_for(keyword_kb)
    assert indexer.index_path(good, "good.md").status == "indexed"
    return keyword_kb, indexer


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


CASES: list[tuple[str, Callable[[Path], Path], dict, str]] = [
    ("empty file", lambda d: _write(d, "empty.md", b""), {}, "empty file"),
    ("encrypted pdf", lambda d: make_encrypted_pdf(d / "locked.pdf"), {}, "password-protected"),
    ("scanned pdf", lambda d: make_scanned_pdf(d / "scan.pdf"), {}, "no text layer"),
    ("png named .pdf", lambda d: _write(d, "photo.pdf", PNG_BYTES * 10), {}, "not a PDF: the file is a PNG image"),
    ("binary .txt", lambda d: _write(d, "blob.txt", bytes(range(256)) * 40), {}, "binary data, not text"),
    ("over max_file_mb", lambda d: _write(d, "big.txt", b"word " * 1000), {"max_file_mb": 0.001},
     "too large (0.0 MB; the limit is 0.001 MB"),
    ("html without text", lambda d: _write(d, "blank.html", b"<html><head><script>x()</script></head>"
                                            b"<body>  </body></html>"), {}, "no readable text in the HTML page"),
    ("unsupported type", lambda d: _write(d, "sheet.xlsx", b"PK\x03\x04 data"), {}, "unsupported file type .xlsx"),
    ("decompression bomb", lambda d: make_bomb_pdf(d / "bomb.pdf"), {},
     "expands past the parser's safety limits and was stopped (decompression bomb?)"),
    ("bomb under the memory cap", lambda d: make_bomb_pdf(d / "bomb1.pdf", stream_mb=60, copies=1),
     {"pdf_memory_mb": 200}, "PDF parsing hit the 200 MB memory cap and was stopped"),
    ("endless pdf", lambda d: make_slow_pdf(d / "slow.pdf"), {"pdf_timeout_s": 2},
     "PDF parsing took longer than 2 s and was stopped"),
]


@pytest.mark.parametrize(("label", "build", "limits", "reason"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused_with_its_reason(
    tmp_path: Path, seeded, indexer_for, label: str, build, limits: dict, reason: str
) -> None:
    kb, _ = seeded
    before = _snapshot(kb)
    path = build(tmp_path)
    outcome = indexer_for(kb, **limits).index_path(path, path.name)
    assert outcome.status == "failed", label
    assert reason in outcome.reason
    assert "\n" not in outcome.reason
    assert _snapshot(kb) == before


def test_reasons_are_distinct() -> None:
    reasons = [c[3] for c in CASES]
    assert len(set(reasons)) == len(reasons)


def test_non_utf8_text_is_decoded_with_a_warning(tmp_path: Path, seeded) -> None:
    kb, indexer = seeded
    path = _write(tmp_path, "menu.txt", "Crème brûlée and café au lait are served on Fridays.".encode("cp1252"))
    outcome = indexer.index_path(path, "menu.txt")
    assert outcome.status == "indexed"
    assert any(w.startswith("not UTF-8; decoded as") for w in outcome.warnings)
    hit = kb.search("brûlée", ["global"])[0]
    assert "Crème brûlée" in hit.content


def test_unreachable_url(seeded) -> None:
    kb, indexer = seeded
    before = _snapshot(kb)
    outcome = indexer.index_url(closed_port_url())
    assert outcome.status == "failed" and outcome.reason == "unreachable URL (connection refused)"
    assert _snapshot(kb) == before


def test_url_errors_and_empty_pages(seeded) -> None:
    kb, indexer = seeded
    before = _snapshot(kb)
    pages = {"/blank": (200, "text/html", b"<html><body><script>1</script></body></html>"),
             "/image": (200, "image/png", PNG_BYTES)}
    with serve(pages) as base:
        assert indexer.index_url(f"{base}/missing").reason == "the server answered HTTP 404 Not Found"
        assert indexer.index_url(f"{base}/blank").reason == "no readable text in the HTML page"
        assert "unsupported content type 'image/png'" in indexer.index_url(f"{base}/image").reason
    assert _snapshot(kb) == before
