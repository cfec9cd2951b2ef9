"""Bytes to text: UTF-8 first, a detected encoding with a warning otherwise, binary refused."""

from __future__ import annotations

from bot.rag.parsing.types import ParseError

_SAMPLE = 8192
_ALLOWED_CONTROLS = {9, 10, 12, 13, 27}


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KiB: not a text file."""
    sample = data[:_SAMPLE]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    controls = sum(1 for b in sample if b < 32 and b not in _ALLOWED_CONTROLS)
    return bool(sample) and controls / len(sample) > 0.05


_WESTERN_GUESSES = {
    "cp1250", "cp1252", "cp1257", "cp775", "cp850", "cp437", "latin_1", "iso8859_1", "iso8859_2",
    "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_15", "mac_roman", "mac_iceland", "mac_turkish",
    "mac_latin2", "hp_roman8",
}


def _decodes_cleanly(data: bytes, encoding: str) -> bool:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return not any("\x80" <= ch <= "\x9f" for ch in text)


def decode_text(data: bytes, warnings: list[str]) -> str:
    """Decode text bytes, appending a warning when it was not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if looks_binary(data):
        raise ParseError("binary data, not text (is the extension right?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding in _WESTERN_GUESSES and _decodes_cleanly(data, "cp1252"):
        # Short Western text fits many Latin code pages equally well; Windows-1252 is by far the
        # most common, so it wins the tie.
        encoding = "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding, text = "latin-1", data.decode("latin-1")
    warnings.append(f"not UTF-8; decoded as {encoding}")
    return text
