"""Redaction of stored question text: each pattern replaced, and nothing else touched."""

from __future__ import annotations

import pytest

from bot.redaction import redact


@pytest.mark.parametrize(("text", "expected"), [
    ("mail jane.doe+kb@example.co.uk today", "mail [email] today"),
    ("ANN@EXAMPLE.ORG said so", "[email] said so"),
    ("call +44 20 7946 0958", "call [phone]"),
    ("call (555) 123-4567 or 555-123-4567", "call [phone] or [phone]"),
    ("ring 555.123.4567 or +15551234567 or 5551234567", "ring [phone] or [phone] or [phone]"),
    ("01 23 45 67 89 is the desk", "[phone] is the desk"),
    ("card 4111 1111 1111 1111 expired", "card [card] expired"),
    ("card 5500-0000-0000-0004 and 4012888888881881", "card [card] and [card]"),
    ("is xoxb-1234-5678-abcdefgh valid", "is [token] valid"),
    ("key sk-abcdefghijklmnop1234 leaked", "key [token] leaked"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789 and AKIAIOSFODNN7EXAMPLE", "[token] and [token]"),
    ("bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "bot [token]"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "jwt [token]"),
    ("commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 broke it", "commit [token] broke it"),
    ("password: hunter22 does not work", "password: [secret] does not work"),
    ("api_key=abcd1234 and token = s3cr3tvalue", "api_key=[secret] and token = [secret]"),
])
def test_each_pattern_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "How do I install Python 3.11.2 on Debian 12?",
    "What changed on 2026-12-01 and 01.12.2026 or 12/01/2026 at 10:30?",
    "Is port 8080 open on 192.168.100.100 and 10.0.0.1?",
    "Why does the import take 1 000 000 rows, or 1,000,000, or 1000000?",
    "Does version 10.0.19045 support ISBN 978-3-16-148410-0?",
    "Error 0x80070005 in build 20261201 of kbot",
    "What does max_question_chars_per_minute do in python3.11-doc?",
    "See https://docs.example.com/guide/install-v2?id=42 and /kb upload",
    "How do I rotate my token every month? Where is the password policy?",
    "The order 4111-1111-1111-1112 is not a card (its check digit is wrong)",
    "Room 101, floor 3, extension 4567",
    "Naïve façade — “quoted” text, emoji 👍 and CJK 日本語 stay as they are",
])
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text
