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


def extractive_answer(question: str, sources: list[Source], max_sentences: int = 3) -> str:
    """Up to `max_sentences` of the best-matching sentences, in passage rank order, each cited. A
    passage's heading counts for each of its sentences: under "Your first day", "Your manager meets
    you at 9:30" can answer "what happens on my first day?" without repeating its words."""
    import Stemmer  # PyStemmer, the Snowball stemmers in C (the in-memory BM25 index stems alike)

    stem_words = Stemmer.Stemmer("english").stemWords
    wanted = _terms(question, stem_words)
    scored: list[tuple[float, int, int, str, int]] = []
    for rank, source in enumerate(sources):
        under_heading = len(wanted & _terms(source.heading or "", stem_words))
        for position, sentence in enumerate(_SENTENCE.split(" ".join(source.text.split()))):
            overlap = len(wanted & _terms(sentence, stem_words)) + under_heading
            if overlap:
                # Earlier passages and earlier sentences break ties: retrieval already ranked them.
                scored.append((overlap - 0.1 * rank - 0.01 * position, rank, position, sentence, source.number))
    if not scored:
        best = sources[0]
        first = _SENTENCE.split(" ".join(best.text.split()))[0]
        return f"The closest passage I found:\n\n> {first} [{best.number}]"
    chosen = sorted(scored, reverse=True)[:max_sentences]
    chosen.sort(key=lambda item: (item[1], item[2]))
    quotes = "\n".join(f"> {sentence.strip()} [{number}]" for _, _, _, sentence, number in chosen)
    return f"From the knowledge base:\n\n{quotes}"
