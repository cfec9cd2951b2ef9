"""Personal data and secrets out of stored question text (coverage-gap analytics keep only this).

Each pattern is narrow on purpose: a question about "Python 3.11.2", "2026-12-01", "port 8080" or
"1,000,000 rows" must read the same afterwards. What is replaced becomes a visible tag
(`[email]`, `[phone]`, `[card]`, `[token]`, `[secret]`) so an admin still sees what kind of thing was
asked about.
"""

from __future__ import annotations

import re

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

# 13-19 digits, optionally grouped by single spaces or dashes; a card only if the Luhn check passes.
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")

# Phone numbers: an international `+` prefix, or groups split by spaces, dashes, dots or brackets.
PHONE = re.compile(r"(?<![\w.+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w.])"
                   r"|(?<![\w+])\+\d{7,15}(?!\w)|(?<![\w.])\d{10,15}(?![\w.])")
DATE = re.compile(r"^\d{4}[-.]\d{1,2}[-.]\d{1,2}$|^\d{1,2}[-.]\d{1,2}[-.]\d{4}$")


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if _luhn(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    digits = re.sub(r"\D", "", found)
    if not 7 <= len(digits) <= 15 or DATE.match(found):
        return found
    groups = re.split(r"[\s.()-]+", found.strip("+() "))
    if not found.startswith("+"):
        if "." in found and re.fullmatch(r"[\d.]+", found) and [len(g) for g in groups] != [3, 3, 4]:
            return found  # versions and IP addresses (555.123.4567 is still a phone)
        if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]) and " " in found:  # 1 000 000
            return found
    return "[phone]"


def _long_run(match: re.Match[str]) -> str:
    run = match.group()
    letters = sum(c.isalpha() for c in run)
    digits = sum(c.isdigit() for c in run)
    if digits >= 2 and letters >= 2:
        return "[token]"
    if digits == 0 and re.fullmatch(r"[a-z_-]+", run) is None and len(run) >= 32:  # long random letters
        return "[token]"
    return run


def redact(text: str) -> str:
    """The text with emails, phone and card numbers, and anything token-shaped replaced by tags."""
    text = EMAIL.sub("[email]", text)
    text = KEYED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[secret]", text)
    text = KNOWN_TOKENS.sub("[token]", text)
    text = LONG_RUN.sub(_long_run, text)
    text = CARD.sub(_card, text)
    return PHONE.sub(_phone, text)
