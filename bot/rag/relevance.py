"""Whether what was retrieved is worth answering from: the relevance gate's rule, shared by the answer
pipeline and `kbot eval` so that the evaluation measures what people get.

The closest passage's cosine similarity decides on its own from `answer.min_similarity` up. Below
it, all-MiniLM-L6-v2 underrates short everyday questions: "what happens on my first day?" scores
0.11 against the passage under "Your first day". So a second, independent signal also admits a
question (`answer.keyword_agreement`): the keyword and the vector rankings agree on a passage near
the top, and that passage holds at least half of the question's words. An off-topic question rarely
has both: of the 40 off-topic questions in evals/, none is admitted this way (evals/handbook-hard.jsonl
has 20 written to share the handbook's words; the ten of them that get in do so on similarity alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

AGREEMENT_DEPTH = 3  # the passage is within the first 3 of the fused, the keyword and the vector rankings
AGREEMENT_SHARE = 0.5  # of the question's terms that the passage contains

_TERM = re.compile(r"[^\W_]{3,}")
_STOPWORD_TEXT = (
    "the and for are but not you all any can her was one our out has his how its may new now see two who "
    "does did get got had him let say she too use what when where which while with would this that these "
    "those from have into more most much must some such than them then they their there were will your "
    "about after also been before being could each just like many only other over same should very"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def query_terms(query: str) -> list[str]:
    """The words of a query worth matching (three letters or more, not a stop word), in order."""
    return list(dict.fromkeys(t for t in _TERM.findall(query.lower()) if t not in _STOPWORDS))


def words(text: str) -> set[str]:
    """The words of a text as query_terms finds them, lower-cased."""
    return set(_TERM.findall(text.lower()))


def term_share(terms: list[str], text: str) -> float:
    """How many of `terms` (query_terms) the text contains, as a share; 0 without terms."""
    if not terms:
        return 0.0
    found = words(text)  # as written: folding plurals let "the best day to plant tomatoes?" in
    return sum(1 for t in terms if t in found) / len(terms)


def keywords_agree(query: str, fused: Iterable[str], keyword: Iterable[str], vector: Iterable[str],
                   texts: Mapping[str, str]) -> bool:
    """One of the first fused passages is among the first of both rankings and holds half the words."""
    terms = query_terms(query)
    both = set(list(keyword)[:AGREEMENT_DEPTH]) & set(list(vector)[:AGREEMENT_DEPTH])
    return any(doc_id in both and term_share(terms, texts.get(doc_id, "")) >= AGREEMENT_SHARE
               for doc_id in list(fused)[:AGREEMENT_DEPTH])


def is_relevant(found_any: bool, best_similarity: float, agreement: bool, min_similarity: float,
                keyword_agreement: bool = True) -> bool:
    """The gate: anything found, and either close enough or agreed on by both rankings."""
    return found_any and (best_similarity >= min_similarity or (keyword_agreement and agreement))
