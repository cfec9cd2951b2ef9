"""Redaction: every personal item of the corpus (phones of 16 countries in national and international
form, IBANs, cards, e-mail addresses, secrets) is replaced by its tag, and harmless text that looks
like it (dates, versions, order codes, ports, money) is left exactly as it was."""

from __future__ import annotations

import pytest

from bot.core.redaction import redact
from tests.data.pii_corpus import HARMLESS, PERSONAL


@pytest.mark.parametrize(("text", "item", "tag", "country"), PERSONAL, ids=[f"{p[3]}-{p[2]}-{i}"
                                                                          for i, p in enumerate(PERSONAL)])
def test_each_personal_item_is_replaced_by_its_tag(text: str, item: str, tag: str, country: str) -> None:
    out = redact(text)
    assert item not in out and f"[{tag}]" in out, out
    assert out == text.replace(item, f"[{tag}]", 1) or tag == "secret"  # nothing around it changes


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_the_corpus_spans_enough_countries_and_cases() -> None:
    assert len(PERSONAL) >= 60 and len(HARMLESS) >= 60
    assert len({country for *_, country in PERSONAL if country != "-"}) >= 8


def test_a_spaced_iban_is_one_tag_and_the_words_after_it_stay() -> None:
    assert redact("send GB82 WEST 1234 5698 7654 32 AB TODAY") == "send [iban] AB TODAY"
    assert redact("GB82 WEST 1234 5698 7654 33 is a typo") == "GB82 WEST 1234 5698 7654 33 is a typo"


def test_keyed_secrets_keep_their_key() -> None:
    assert redact("password: hunter22 and api_key=abcd1234") == "password: [secret] and api_key=[secret]"
