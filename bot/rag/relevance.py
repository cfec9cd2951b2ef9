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
from collections.abc import Iterable
from itertools import islice

from bot.core.messages import Why

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


def keywords_agree(terms: int, whys: Iterable[Why]) -> bool:
    """`whys` in fused order (`terms`: how many query_terms the question has): one of the first is
    among the first of both rankings and contains half the question's terms, as written (folding
    plurals let "the best day to plant tomatoes?" in)."""
    return terms > 0 and any(
        why.keyword_rank is not None and why.keyword_rank <= AGREEMENT_DEPTH
        and why.vector_rank is not None and why.vector_rank <= AGREEMENT_DEPTH
        and len(why.matched_terms) / terms >= AGREEMENT_SHARE
        for why in islice(whys, AGREEMENT_DEPTH))


def is_relevant(found_any: bool, best_similarity: float, agreement: bool, min_similarity: float,
                keyword_agreement: bool = True) -> bool:
    """The gate: anything found, and either close enough or agreed on by both rankings."""
    return found_any and (best_similarity >= min_similarity or (keyword_agreement and agreement))
