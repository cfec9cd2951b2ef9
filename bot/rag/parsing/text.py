"""Bytes to text: a BOM when there is one, UTF-8 (repaired when mostly valid), a legacy code page
when one reads plausibly (bot/rag/parsing/encodings.py; with a warning), and a file whose encoding
cannot be told refused with what to do, never indexed as mojibake."""

from __future__ import annotations

from bot.rag.parsing.encodings import CANNOT_TELL, decode_legacy
from bot.rag.parsing.types import ParseError

_SAMPLE = 8192
_ALLOWED_CONTROLS = {9, 10, 12, 13, 27}
_REPLACEMENT = "\ufffd"
_ENCODED_REPLACEMENT = _REPLACEMENT.encode("utf-8")
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
BINARY = "binary data, not text (is the extension right?)"
# Above this share of malformed code units a "text" file is noise, whatever its BOM says.
_MAX_BROKEN_SHARE = 0.1

def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KiB: not a text file."""
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in _ALLOWED_CONTROLS)
    return bool(sample) and controls / len(sample) > 0.05


def _broken(text: str, data: bytes) -> int:
    """How many replacement characters decoding added (a file may contain some of its own)."""
    return text.count(_REPLACEMENT) - data.count(_ENCODED_REPLACEMENT)


def _with_bom(data: bytes, warnings: list[str]) -> str | None:
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            body = data[len(mark):]
            text = body.decode(encoding, errors="replace")
            broken = _broken(text, body) if encoding == "utf-8" else text.count(_REPLACEMENT)
            if broken > max(1, len(text) * _MAX_BROKEN_SHARE) or (text and looks_binary(text.encode("utf-8"))):
                raise ParseError(BINARY)
            if broken:
                warnings.append(f"{broken} malformed {encoding.upper()} sequence(s) replaced with {_REPLACEMENT}")
            return text
    return None


def _mostly_utf8(data: bytes, warnings: list[str]) -> str | None:
    """UTF-8 with a few bad bytes stays UTF-8: its valid multi-byte characters outnumber the bad ones."""
    text = data.decode("utf-8", errors="replace")
    broken = _broken(text, data)
    valid_non_ascii = sum(1 for ch in text if ord(ch) > 127 and ch != _REPLACEMENT)
    if broken and valid_non_ascii >= broken:
        warnings.append(f"not valid UTF-8 in {broken} place(s); decoded as UTF-8 with {_REPLACEMENT} there")
        return text
    return None


def _legacy(data: bytes, warnings: list[str]) -> str:
    found = decode_legacy(data)
    if found is None:  # no code page makes any language of it
        high = sum(b > 127 for b in data[:_SAMPLE]) / max(len(data[:_SAMPLE]), 1)
        raise ParseError(BINARY if high > 0.3 else CANNOT_TELL.format(readings=""))
    text, encoding = found
    warnings.append(f"not UTF-8; decoded as {encoding}")
    return text


def decode_text(data: bytes, warnings: list[str]) -> str:
    """Decode text bytes, appending a warning whenever the result is not plain, valid UTF-8."""
    with_bom = _with_bom(data, warnings)
    if with_bom is not None:
        return with_bom
    if looks_binary(data):
        raise ParseError(BINARY)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    repaired = _mostly_utf8(data, warnings)
    return repaired if repaired is not None else _legacy(data, warnings)
