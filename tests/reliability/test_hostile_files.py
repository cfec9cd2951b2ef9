"""Promise: every hostile or broken file gets its own one-line reason and leaves the knowledge base
exactly as it was: nothing half-indexed. Text in odd encodings is read right or refused as binary."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.rag.indexer import Indexer
from bot.rag.knowledge_base import KnowledgeBase
from tests.fakes.http_site import closed_port_url, serve
from tests.support.samples import (
    PNG_BYTES,
    make_bomb_pdf,
    make_cyclic_pdf,
    make_encrypted_pdf,
    make_scanned_pdf,
    make_slow_pages_pdf,
    make_slow_pdf,
    make_structured_pdf,
)


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


def _image_bomb(path: Path) -> Path:
    """A small PNG that would decode to 441 million pixels."""
    from PIL import Image

    Image.new("1", (21_000, 21_000)).save(path, optimize=True)
    return path


def _blank_image(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (800, 600), "white").save(path)
    return path


CASES: list[tuple[str, Callable[[Path], Path], dict, str]] = [
    ("empty file", lambda d: _write(d, "empty.md", b""), {}, "empty file"),
    ("encrypted pdf", lambda d: make_encrypted_pdf(d / "locked.pdf"), {}, "password-protected"),
    ("blank scanned pdf", lambda d: make_scanned_pdf(d / "scan.pdf"), {}, "no text on any page, even with OCR"),
    ("scanned pdf, OCR off", lambda d: make_scanned_pdf(d / "scan.pdf"), {"ocr": False},
     "no text layer (a scanned PDF?); images and scanned pages are read with OCR, which is switched off"),
    ("image bomb", lambda d: _image_bomb(d / "bomb.png"), {}, "the image is too large to read (a decompression bomb?)"),
    ("truncated image", lambda d: _write(d, "cut.png", PNG_BYTES[:40]), {}, "not a readable image"),
    ("blank image", lambda d: _blank_image(d / "white.jpg"), {}, "no text in the image: it is blank"),
    ("image, OCR off", lambda d: _blank_image(d / "white.jpg"), {"ocr": False}, "which is switched off here"),
    ("png named .pdf", lambda d: _write(d, "photo.pdf", PNG_BYTES * 10), {}, "not a PDF: the file is a PNG image"),
    ("binary .txt", lambda d: _write(d, "blob.txt", bytes(range(256)) * 40), {}, "binary data, not text"),
    ("over max_file_mb", lambda d: _write(d, "big.txt", b"word " * 1000), {"max_file_mb": 0.001},
     "too large (0.0 MB; the limit is 0.001 MB"),
    ("html without text", lambda d: _write(d, "blank.html", b"<html><head><script>x()</script></head>"
                                            b"<body>  </body></html>"), {}, "no readable text in the HTML page"),
    ("unsupported type", lambda d: _write(d, "sheet.xlsx", b"PK\x03\x04 data"), {}, "unsupported file type .xlsx"),
    ("decompression bomb", lambda d: make_bomb_pdf(d / "bomb.pdf"), {},
     "PDF parsing hit the 1024 MB memory cap and was stopped (decompression bomb?)"),
    ("decompression bomb, pypdf", lambda d: make_bomb_pdf(d / "bomb.pdf"), {"pdf_parser": "pypdf"},
     "expands past the parser's safety limits and was stopped (decompression bomb?)"),
    ("bomb under the memory cap", lambda d: make_bomb_pdf(d / "bomb1.pdf", stream_mb=60, copies=4),
     {"pdf_memory_mb": 200}, "PDF parsing hit the 200 MB memory cap and was stopped"),
    ("endless pdf", lambda d: make_slow_pages_pdf(d / "slow.pdf", pages=20),
     {"pdf_timeout_s": 3, "pdf_page_budget_s": 0.02},
     "PDF parsing took longer than 3.4 s (3 s + 0.02 s for each of 20 pages) and was stopped"),
    ("endless pdf, pypdf", lambda d: make_slow_pdf(d / "slow.pdf"), {"pdf_timeout_s": 2, "pdf_parser": "pypdf"},
     "PDF parsing took longer than 2.5 s (2 s + 0.5 s for each of 1 page) and was stopped"),
    ("cyclic pdf", lambda d: make_cyclic_pdf(d / "cycle.pdf"), {}, "damaged PDF (page 2: Failed to load page"),
    ("cyclic pdf, pypdf", lambda d: make_cyclic_pdf(d / "cycle.pdf"), {"pdf_parser": "pypdf"},
     "damaged PDF (Detected cyclic page references"),
    ("docx that is not a zip", lambda d: _write(d, "fake.docx", b"just some text, not a Word file"), {},
     "not a valid DOCX file"),
    ("random bytes as .txt", lambda d: _write(d, "noise.txt", random.Random(7).randbytes(20_000)), {},
     "binary data, not text"),
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
    reasons = [c[3] for c in CASES if c[0] != "random bytes as .txt"]  # noise is refused as binary too
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
             "/image": (200, "image/png", PNG_BYTES), "/gif": (200, "image/gif", b"GIF89a" + bytes(40))}
    with serve(pages) as base:
        assert indexer.index_url(f"{base}/missing").reason == "the server answered HTTP 404 Not Found"
        assert indexer.index_url(f"{base}/blank").reason == "no readable text in the HTML page"
        assert indexer.index_url(f"{base}/image").reason.startswith("not a readable image")  # read with OCR
        assert "unsupported content type 'image/gif'" in indexer.index_url(f"{base}/gif").reason
    assert _snapshot(kb) == before


TEXTS: list[tuple[str, bytes, str, str | None]] = [
    # name, bytes, what must be read, the warning (None: none)
    ("one bad byte in UTF-8", "Crème brûlée, café, naïve résumé. ".encode() * 20 + b"\xff" + "Über alles.".encode(),
     "Crème brûlée, café, naïve résumé.", "not valid UTF-8 in 1 place(s)"),
    ("UTF-32 with a BOM", "Straße und Grüße aus München.".encode("utf-32"), "Straße und Grüße aus München.", None),
    ("UTF-16 with a BOM", "Les élèves préfèrent le thé.".encode("utf-16"), "Les élèves préfèrent le thé.", None),
    ("malformed UTF-16", "Un texte à moitié cassé.".encode("utf-16") + b"\x00\xd8", "Un texte à moitié cassé.",
     "malformed UTF-16-LE sequence"),
    ("Windows-1252", "Crème brûlée and café au lait.".encode("cp1252"), "Crème brûlée and café au lait.",
     "not UTF-8; decoded as cp1252"),
    ("ISO 8859-2", "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.".encode("iso8859_2"),
     "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.", "not UTF-8; decoded as iso8859_2"),
    # Each once read wrongly (as cp775, Shift-JIS, cp1252) and indexed as mojibake.
    ("short French in Windows-1252", "Le café naïf.".encode("cp1252"), "Le café naïf.",
     "not UTF-8; decoded as cp1252"),
    ("short Spanish in Windows-1252", "¿Dónde está la señora Muñoz?".encode("cp1252"),
     "¿Dónde está la señora Muñoz?", "not UTF-8; decoded as cp1252"),
    ("KOI8-R", "Съешь же ещё этих мягких французских булок.".encode("koi8_r"),
     "Съешь же ещё этих мягких французских булок.", "not UTF-8; decoded as koi8_r"),
    ("Czech in Windows-1250", "Příliš žluťoučký kůň úpěl ďábelské ódy.".encode("cp1250"),
     "Příliš žluťoučký kůň úpěl ďábelské ódy.", "not UTF-8; decoded as cp1250"),
]


def test_a_text_whose_encoding_cannot_be_told_is_refused_with_what_to_do(tmp_path: Path, seeded) -> None:
    """Kana alone, in EUC-JP, reads as Japanese and as Chinese (Big5) alike: never guessed."""
    kb, indexer = seeded
    before = _snapshot(kb)
    outcome = indexer.index_path(_write(tmp_path, "kana.txt", "いろはにほへと　ちりぬるを".encode("euc_jp")),
                                 "kana.txt")
    assert outcome.status == "failed" and "save it as UTF-8" in outcome.reason and "Japanese" in outcome.reason
    assert _snapshot(kb) == before


@pytest.mark.parametrize(("label", "data", "expected", "warning"), TEXTS, ids=[t[0] for t in TEXTS])
def test_text_in_any_encoding_is_read_right(tmp_path: Path, seeded, label: str, data: bytes, expected: str,
                                             warning: str | None) -> None:
    kb, indexer = seeded
    path = _write(tmp_path, "note.txt", data)
    outcome = indexer.index_path(path, "note.txt")
    assert outcome.status == "indexed", outcome.reason
    stored = "".join(c.content or "" for c in kb.backend.document_store.filter_documents(
        {"field": "meta.source", "operator": "==", "value": "note.txt"}))
    assert expected in stored
    if warning is None:
        assert outcome.warnings == []
    else:
        assert any(warning in w for w in outcome.warnings), outcome.warnings


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_is_refused_as_binary_whatever_its_bytes(tmp_path: Path, seeded, seed: int) -> None:
    kb, indexer = seeded
    before = _snapshot(kb)
    rng = random.Random(seed)
    samples = {"high.txt": bytes(rng.randrange(128, 256) for _ in range(20_000)),  # no NUL, no control bytes
               "printable.txt": bytes(rng.choice([*range(32, 127), *range(160, 256)]) for _ in range(20_000))}
    for name, data in samples.items():
        outcome = indexer.index_path(_write(tmp_path, name, data), name)
        assert outcome.status == "failed" and "binary data, not text" in outcome.reason, name
    assert _snapshot(kb) == before


def test_hostile_structure_is_bounded(tmp_path: Path, keyword_kb: KnowledgeBase, indexer_for) -> None:
    """Thousands of bookmarks on one page and HTML nested thousands deep index like ordinary documents."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(make_structured_pdf(tmp_path / "admin.pdf")).pages:
        writer.add_page(page)
    for number in range(6000):
        writer.add_outline_item(f"Bookmark {number}", 1)
    with open(tmp_path / "many.pdf", "wb") as out:
        writer.write(out)
    indexer = indexer_for(keyword_kb)
    assert indexer.index_path(tmp_path / "many.pdf", "many.pdf").status == "indexed"
    assert keyword_kb.search("schedule backup.yaml", ["global"])[0].meta["source"] == "many.pdf"

    deep = tmp_path / "deep.html"
    deep.write_text("<html><body><main>" + "<div><span>" * 5000 + "The deepest sentence is here."
                    + "</span></div>" * 5000 + "</main></body></html>")
    assert indexer.index_path(deep, "deep.html").status == "indexed"
    assert "The deepest sentence is here." in keyword_kb.search("deepest sentence", ["global"])[0].content


def test_a_tiff_of_500_blank_pages_is_refused_without_reading_them(tmp_path: Path, seeded) -> None:
    """Fax-compressed blank A4 pages: each is found blank before OCR (400 KB of them once took nine
    minutes of the indexing queue), and no more pages are looked at than a file this size can hold."""
    from PIL import Image

    kb, indexer = seeded
    before = _snapshot(kb)
    blank = [Image.new("1", (827, 1169), 1) for _ in range(500)]  # A4 at 100 dpi
    path = tmp_path / "fax.tiff"
    blank[0].save(path, save_all=True, append_images=blank[1:], compression="group4")
    seen: list[tuple] = []
    outcome = indexer.index_path(path, "fax.tiff", on_progress=lambda *step: seen.append(step))
    assert outcome.status == "failed" and outcome.reason == "no text in the image: its pages are blank"
    assert max(step[1] for step in seen if step[0] == "ocr") == min(200, path.stat().st_size // 2000)
    assert _snapshot(kb) == before
