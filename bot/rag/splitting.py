"""Word-window splitting with overlap: offline, deterministic, whitespace kept inside a chunk."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class Chunking:
    """How documents are cut: windows of `words`, neighbours sharing `overlap` of them."""

    words: int = 150
    overlap: int = 30

    @property
    def name(self) -> str:
        """Recorded on every chunk: a change of chunking re-indexes a document."""
        return f"words:{self.words}/{self.overlap}"


def split_words(text: str, length: int, overlap: int) -> list[str]:
    """Windows of `length` words, each starting `length - overlap` words after the previous one.

    A tail that would add fewer than `overlap` new words joins the last window instead of becoming
    a chunk that is mostly a repeat of its neighbour.
    """
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
        end = start + length
        if len(words) - end < overlap:
            chunks.append("".join(words[start:]).strip())
            break
        chunks.append("".join(words[start:end]).strip())
    return chunks
