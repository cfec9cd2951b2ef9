"""Personal data and secrets out of text before it is kept (turns, gaps, logs, saved threads) or sent
to a hosted model.

Each kind is found by a validator, not by a pattern alone, so that an order code, a version, a date,
a port or a page number reads the same afterwards:
- phone numbers by libphonenumber (`phonenumbers`), in international form anywhere and in national
  form for the regions given (the default covers the countries kbot's users write from most);
- IBANs by their checksum and card numbers by Luhn (`python-stdnum`);
- e-mail addresses, keyed secrets (`password: ...`) and token shapes issued by well-known services.
What is replaced becomes a tag that keeps the meaning: `[email]`, `[phone]`, `[iban]`, `[card]`,
`[secret]`.
"""

# Imports inside functions: phonenumbers and python-stdnum (large metadata) load at the first text that holds
# digits.

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "PL", "PT", "BR", "IN", "RU", "UA",
                 "JP", "AU", "CA", "MX")

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# A value after a key that names a secret: `password: hunter2`, `api_key=...`, `token = ...`.
KEYED_SECRET = re.compile(
    r"(?i)\b(password|passwd|pwd|passcode|secret|client[_-]?secret|api[_-]?key|access[_-]?key|token|"
    r"bearer)(\s*[:=]\s*)(?!\[)(\S{4,})"
)
# Shapes issued by well-known services, then anything long that mixes letters and digits.
KNOWN_TOKENS = re.compile(
    r"\b(?:xox[abposr]-[\w-]{8,}|xapp-[\w-]{8,}|sk-[\w-]{16,}|gh[pousr]_\w{20,}|github_pat_\w{20,}"
    r"|glpat-[\w-]{20,}|AKIA[0-9A-Z]{16}|AIza[\w-]{30,}|\d{6,12}:[\w-]{30,}"
    r"|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,})"
)
LONG_RUN = re.compile(r"(?<![\w-])[A-Za-z0-9_\-]{20,}={0,2}(?![\w-])")
# An IBAN's start (country, check digits) and up to 30 more letters and digits, grouped or not.
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,30}(?![A-Za-z0-9])")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# What libphonenumber may take for a national number and is not one: dates, a decimal number.
NOT_A_PHONE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d+[.,]\d+")
# 13-19 digits, optionally grouped by single spaces or dashes.
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")


def _iban(match: re.Match[str]) -> str:
    """The longest prefix (whole groups) that is a valid IBAN, tagged; the rest as it was."""
    from stdnum import iban

    found = match.group()
    for end in range(len(found), 14, -1):
        if (end == len(found) or found[end] == " ") and iban.is_valid(found[:end]):
            return "[iban]" + found[end:]
    return found


def _card(match: re.Match[str]) -> str:
    from stdnum import luhn

    digits = re.sub(r"\D", "", match.group())
    return "[card]" if luhn.is_valid(digits) and digits[0] in "23456" else match.group()


def _long_run(match: re.Match[str]) -> str:
    run = match.group()
    if UUID.fullmatch(run):  # an identifier in a log, not a credential
        return run
    letters = sum(c.isalpha() for c in run)
    digits = sum(c.isdigit() for c in run)
    if digits >= 2 and letters >= 2 and not re.fullmatch(r"[a-z]+(?:[_-][a-z0-9]+)+", run):
        return "[secret]"
    if digits == 0 and re.fullmatch(r"[a-z_-]+", run) is None and len(run) >= 32 and len(set(run)) >= 12:
        return "[secret]"  # long random letters (not a run of one, nor a word in snake_case)
    return run


def _phone_spans(text: str, regions: Iterable[str]) -> list[tuple[int, int]]:
    import phonenumbers

    spans: set[tuple[int, int]] = set()
    if sum(c.isdigit() for c in text) < 7:  # no phone number is shorter; most questions stop here
        return []
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.VALID):
            found = match.raw_string
            national = not found.startswith("+")
            if national and (NOT_A_PHONE.fullmatch(found) or sum(c.isdigit() for c in found) < 8):
                continue
            spans.add((match.start, match.end))
    return sorted(spans)


def _replace_spans(text: str, spans: list[tuple[int, int]], tag: str) -> str:
    out, at = [], 0
    for start, end in spans:
        if start < at:  # overlaps one replaced already
            continue
        out += [text[at:start], tag]
        at = end
    return "".join(out) + text[at:]


def redact(text: str, regions: Iterable[str] = PHONE_REGIONS) -> str:
    """The text with secrets, e-mail addresses, IBANs, card and phone numbers replaced by tags."""
    if not text:
        return text
    text = KEYED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[secret]", text)
    text = KNOWN_TOKENS.sub("[secret]", text)
    text = EMAIL.sub("[email]", text)
    text = IBAN_START.sub(_iban, text)
    text = LONG_RUN.sub(_long_run, text)
    text = CARD.sub(_card, text)
    return _replace_spans(text, _phone_spans(text, regions), "[phone]")


@dataclass(frozen=True)
class Redactor:
    """`redact` with the phone regions a deployment chose (`privacy.phone_regions`)."""

    regions: tuple[str, ...] = PHONE_REGIONS

    def __call__(self, text: str) -> str:
        return redact(text, self.regions)
