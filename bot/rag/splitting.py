"""Splitting into passages of about N words that start and end at sentence boundaries: offline,
deterministic, whitespace kept inside a passage."""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunking:
    """How documents are cut: passages of about `words`, neighbours sharing up to `overlap` of them."""

    words: int = 150
    overlap: int = 30

    @property
    def name(self) -> str:
        """Recorded on every chunk: a change of chunking re-indexes a document. `entries`: a PDF's
        passages end where a command's entry begins (definitions.py); stores written before it re-index."""
        return f"passages:{self.words}/{self.overlap}:entries"


# Where a new sentence, paragraph, list item, table row, heading or code fence begins.
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[A-Z0-9\"“‘(\[])")
_LINE_ITEM = re.compile(r"\n(?=[ \t]*(?:[-*•+] |\d{1,3}[.)] |\||#{1,6} |```|~~~))")
_FENCED = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_WORDS = re.compile(r"\S+")


def _units(text: str, entries: Collection[int] = ()) -> list[tuple[int, int]]:
    """Spans of sentences (and list items, table rows, command entries, whole code blocks), in order,
    covering the text."""
    starts = {0, *entries}
    for pattern in (_PARAGRAPH, _SENTENCE, _LINE_ITEM):
        starts.update(match.end() if pattern is not _LINE_ITEM else match.start() + 1
                      for match in pattern.finditer(text))
    fences = [(fence.start(), fence.end()) for fence in _FENCED.finditer(text)]
    for start, end in fences:  # a code block is never cut inside
        starts.update((start, end))
    fence_starts = [start for start, _ in fences]

    def inside_fence(position: int) -> bool:
        index = bisect.bisect_right(fence_starts, position) - 1
        return index >= 0 and fences[index][0] < position < fences[index][1]

    ordered = sorted(s for s in starts if s < len(text) and not inside_fence(s))
    spans: list[tuple[int, int]] = []
    for start, end in zip(ordered, [*ordered[1:], len(text)], strict=False):
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
    return spans


def _word_spans(text: str, span: tuple[int, int], length: int, overlap: int) -> list[tuple[int, int]]:
    """A unit longer than a chunk (a long code block, a run-on line) cut into word windows."""
    words = [(m.start() + span[0], m.end() + span[0]) for m in _WORDS.finditer(text[span[0]:span[1]])]
    step = length - overlap
    pieces: list[tuple[int, int]] = []
    for first in range(0, len(words), step):
        last = min(first + length, len(words))
        if pieces and last == len(words) and last - (first + overlap) < overlap:
            pieces[-1] = (pieces[-1][0], words[-1][1])  # a tail of few new words joins the last window
            break
        pieces.append((words[first][0], words[last - 1][1]))
        if last == len(words):
            break
    return pieces


def split_passages(text: str, length: int, overlap: int, entries: Collection[int] = ()) -> list[tuple[int, int]]:
    """Spans of about `length` words that start and end at sentence boundaries, each beginning with
    up to `overlap` words of whole sentences from the end of the previous one. At `entries` (offsets
    where a command's entry begins, see definitions.py) a passage past half its length ends, and the
    next one starts there without overlap, so that an entry is not split from its term."""
    if overlap >= length:
        raise ValueError("overlap must be smaller than length")
    units: list[tuple[int, int]] = []
    counts: list[int] = []  # words in each unit, counted once
    for unit in _units(text, entries):
        count = len(_WORDS.findall(text[unit[0]:unit[1]]))
        if count <= length:
            units.append(unit)
            counts.append(count)
            continue
        for piece in _word_spans(text, unit, length, overlap):
            units.append(piece)
            counts.append(len(_WORDS.findall(text[piece[0]:piece[1]])))
    entry_starts = set(entries)
    opens = {index for index, unit in enumerate(units) if unit[0] in entry_starts}
    passages: list[tuple[int, int]] = []
    fresh, previous_start = 0, -1  # the first unit no passage holds yet; where the last passage began
    while fresh < len(units):
        start, shared = fresh, 0
        while (passages and fresh not in opens and start - 1 > previous_start
               and shared + counts[start - 1] <= overlap):
            start -= 1
            shared += counts[start]
        if shared + counts[fresh] > length:  # the next sentence does not fit beside the overlap
            start, shared = fresh, 0
        end, words = fresh, shared
        while end < len(units) and (end == fresh or words + counts[end] <= length):
            if end != fresh and end in opens and words >= length // 2:
                break
            words += counts[end]
            end += 1
        if (end < len(units) and end not in opens and words < length * 0.9
                and words + counts[end] <= length + overlap // 2):
            words += counts[end]  # finish on the next sentence rather than leave a short passage
            end += 1
        if passages and end == len(units) and words - shared < max(1, overlap):
            passages[-1] = (passages[-1][0], units[-1][1])  # a tail of a few words joins the last passage
            break
        passages.append((units[start][0], units[end - 1][1]))
        previous_start, fresh = start, end
    return passages
