"""Names and links as people are shown them (bot/core/shown.py)."""

from __future__ import annotations

import pytest

from bot.core.shown import MAX_NAME_CHARS, defang, keep_known_links, known_links, safe_name


@pytest.mark.parametrize(("name", "shown"), [
    ("report\x00.md", "report.md"),
    ("notes.md\n• payroll.md", "notes.md • payroll.md"),
    ("invoice\u202edm.exe.md", "invoicedm.exe.md"),
    ("zero\u200bwidth.pdf", "zerowidth.pdf"),
    ("  spaced   out .txt ", "spaced out .txt"),
    ("Café résumé.md", "Café résumé.md"),
    ("", "upload"),
    ("\x00\u202e", "upload"),
])
def test_names_are_one_visible_line(name: str, shown: str) -> None:
    assert safe_name(name) == shown


def test_a_long_name_keeps_its_extension_within_the_limit() -> None:
    shown = safe_name("x" * 5000 + ".pdf")
    assert len(shown) == MAX_NAME_CHARS and shown.endswith("….pdf")
    assert len(safe_name("y" * 5000)) == MAX_NAME_CHARS


def test_only_known_links_stay_links() -> None:
    known = known_links(["Request leave at https://hr.example.com/leave.", None])
    text = ("See https://hr.example.com/leave, [log in](http://evil.example/login) or "
            "https://EVIL.example/reset?x=1.")
    assert keep_known_links(text, known) == (
        "See https://hr.example.com/leave, log in (hxxp://evil[.]example/login) or "
        "hxxps://EVIL[.]example/reset?x=1.")  # as written, not clickable
    assert keep_known_links("[hr](https://hr.example.com/leave/)", known) == "[hr](https://hr.example.com/leave/)"
    assert defang("ftp://files.example.org/a.b") == "fxp://files[.]example[.]org/a.b"
