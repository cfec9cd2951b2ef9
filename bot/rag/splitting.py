"""Word-window splitting with overlap: offline, deterministic, whitespace kept inside a chunk."""

from __future__ import annotations

import re

_WORD = re.compile(r"\S+\s*")


def split_words(text: str, length: int, overlap: int) -> list[str]:
    """Windows of `length` words, each starting `length - overlap` words after the previous one."""
    if overlap >= length:
        raise ValueError("overlap must be smaller than length")
    words = _WORD.findall(text.strip())
    if not words:
        return []
    if len(words) <= length:
        return ["".join(words).strip()]
    step = length - overlap
    chunks = []
    for start in range(0, len(words), step):
        chunks.append("".join(words[start : start + length]).strip())
        if start + length >= len(words):
            break
    return chunks
