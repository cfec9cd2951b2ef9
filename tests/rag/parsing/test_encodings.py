"""Legacy code pages: each text of the corpus (20 languages, 22 code pages, a sentence and a paragraph)
is read right or refused with what to do; none is read as mojibake."""

from __future__ import annotations

import pytest

from bot.rag.parsing.encodings import decode_legacy
from bot.rag.parsing.types import ParseError
from tests.data.encodings_corpus import SAVED_AS, TEXTS

CASES = [(language, page, size, text) for language, page in SAVED_AS
         for size, text in zip(("short", "long"), TEXTS[language], strict=True)]


def _read(data: bytes) -> str | None:
    """The text kbot reads, or None when it refuses the file."""
    try:
        found = decode_legacy(data)
    except ParseError as refused:
        assert "save it as UTF-8" in str(refused)
        return None
    assert found is not None
    return found[0]


@pytest.mark.parametrize(("language", "page", "size", "text"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_read_right_or_refused_never_mojibake(language: str, page: str, size: str, text: str) -> None:
    assert _read(text.encode(page)) in (text, None)


def test_nearly_all_of_the_corpus_is_read_and_it_spans_enough_code_pages() -> None:
    read = sum(_read(text.encode(page)) == text for _, page, _, text in CASES)
    assert len({page for _, page in SAVED_AS}) >= 12 and len(CASES) >= 50
    assert read / len(CASES) >= 0.95


def test_a_text_in_two_languages_of_one_code_page_is_read() -> None:
    text = "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy."
    assert _read(text.encode("iso8859_2")) == text


def test_typographic_quotes_alone_are_read_as_windows_1252() -> None:
    text = "It’s the “final” version – really."
    assert _read(text.encode("cp1252")) == text


def test_bytes_no_code_page_makes_a_language_of_are_not_read() -> None:
    assert decode_legacy(bytes(range(0xA0, 0x100)) * 4) is None
