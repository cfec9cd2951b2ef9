"""Command entries in text extracted from a PDF: a reference manual describes each command under a
term line of its own, repeated by the synopsis below it (`trap`, then `trap [-lp] [arg] [sigspec
...]`; texinfo's @item and @deffn, man pages), with no bookmark for it. A passage that starts at the
entry and is named after its command is found by the question about it; one that starts in the
previous entry's tail and mixes three commands is found less often."""

from __future__ import annotations

import re
from dataclasses import dataclass

TERM_MAX_CHARS = 40
_ENDS_SENTENCE = re.compile(r"[.:!?][\"'”’)\]]*$")
_LINE = re.compile(r"[^\n]*(?:\n|$)")
_PUNCTUATION = (".", ",", ";", ":", "!", "?")


@dataclass(frozen=True)
class Entry:
    """Where an entry's term line begins (its first character), and the command it describes."""

    offset: int
    name: str


def command_entries(text: str) -> list[Entry]:
    """Entries: a line of one word, after the end of a sentence (or at the start), followed by a
    synopsis that begins with that word. A wrapped line of prose does not follow a sentence end, and a
    code example is not followed by its own first word, so neither is taken."""
    lines = [(match.start(), match.group().rstrip("\n")) for match in _LINE.finditer(text) if match.group()]
    entries = []
    for index, (start, line) in enumerate(lines[:-1]):
        term = line.strip()
        if not term or len(term) > TERM_MAX_CHARS or " " in term or term.endswith(_PUNCTUATION):
            continue
        synopsis = lines[index + 1][1].split()
        previous = lines[index - 1][1].strip() if index else ""
        if synopsis and synopsis[0] == term and (not previous or _ENDS_SENTENCE.search(previous)):
            entries.append(Entry(start + len(line) - len(line.lstrip()), term))
    return entries
