"""Answers without an LLM: the passages' sentences that best match the question, quoted and cited.

Passages are only ever quoted, so text inside them can never steer what kbot does.
"""

# Imports inside functions: PyStemmer loads at the first extractive answer.

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.messages import Source

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*])")
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    " ".join([
        "a an and are as at be by can do does for from how i if in is it its me my of on or our should so",
        "that the their there this to was we what when where which who why will with you your about into",
    ]).split()
)


def _terms(text: str, stem_words: Callable[[list[str]], list[str]]) -> set[str]:
    """The words that carry meaning, stemmed: "trains" matches "train", "booking" matches "book"."""
    return set(stem_words([w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]))


def is_heading_line(line: str, following: str | None) -> bool:
    """A PDF's heading comes out as a short line of its own, without a sentence's end, before the
    text it heads ("Passwords and accounts" above "Use the company password manager…")."""
    words = line.split()
    return (following is not None and 0 < len(words) <= 8 and len(line) <= 80 and line[0].isupper()
            and not line.rstrip().endswith((".", "!", "?", ":", ";", ",")) and following[:1].isupper())


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, its text) for each part of a passage; heading "" for text before any heading line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    parts: list[tuple[str, list[str]]] = [("", [])]
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        if is_heading_line(line, following):
            parts.append((line, []))
        else:
            parts[-1][1].append(line)
    return [(heading, " ".join(body)) for heading, body in parts if body]


def extractive_answer(question: str, sources: list[Source], max_sentences: int = 3) -> str:
    """Up to `max_sentences` of the best-matching sentences, in passage rank order, each cited. A
    passage's heading counts for each of its sentences: under "Your first day", "Your manager meets
    you at 9:30" can answer "what happens on my first day?" without repeating its words."""
    import Stemmer  # PyStemmer, the Snowball stemmers in C (the in-memory BM25 index stems alike)

    stem_words = Stemmer.Stemmer("english").stemWords
    wanted = _terms(question, stem_words)
    scored: list[tuple[float, int, int, str, int]] = []
    for rank, source in enumerate(sources):
        position = 0
        for heading, body in sections(source.text):
            # The passage's heading, and a heading line inside it, count for each sentence under them.
            under_heading = len(wanted & _terms(f"{source.heading or ''} {heading}", stem_words))
            for sentence in _SENTENCE.split(body):
                overlap = len(wanted & _terms(sentence, stem_words)) + under_heading
                if overlap:
                    # Earlier passages and earlier sentences break ties: retrieval already ranked them.
                    scored.append((overlap - 0.1 * rank - 0.01 * position, rank, position, sentence, source.number))
                position += 1
    if not scored:
        best = sources[0]
        first = _SENTENCE.split((sections(best.text) or [("", best.text)])[0][1])[0]
        return f"The closest passage I found:\n\n> {first} [{best.number}]"
    chosen = sorted(scored, reverse=True)[:max_sentences]
    chosen.sort(key=lambda item: (item[1], item[2]))
    quotes = "\n".join(f"> {sentence.strip()} [{number}]" for _, _, _, sentence, number in chosen)
    return f"From the knowledge base:\n\n{quotes}"
