"""Coverage gaps grouped by meaning: "how do I restore one table" and "restoring a single table from
backup?" are one missing topic. Vectors come from the knowledge base's own embedder; without one
(a keyword-only store), from the questions' words."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.insights.gaps import Gap

Embed = Callable[[str], Sequence[float]]

# Cosine similarity above which two questions ask about the same thing. With all-MiniLM-L6-v2,
# paraphrases of one question score 0.6-0.9 and different questions on one manual 0.2-0.5.
SAME_TOPIC = 0.6
SAME_WORDS = 0.5  # the same, for word-count vectors

_STOPWORDS = frozenset((
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "from", "is", "are", "was",
    "were", "be", "been", "do", "does", "did", "how", "what", "why", "when", "where", "which", "who", "can", "could",
    "should", "would", "i", "we", "you", "it", "my", "our", "your", "this", "that", "there", "any", "some", "me",
    "us", "not", "no",
))


@dataclass(frozen=True)
class GapGroup:
    wording: str  # the question closest to the group's centre
    count: int
    last_asked: datetime
    nothing_found: int
    weak: int
    thumbs_down: int
    sources: tuple[str, ...]  # what the weak answers cited most, best first

    @property
    def thumbs_down_share(self) -> float:
        return self.thumbs_down / self.count


def _words(text: str) -> Counter[str]:
    words = [w.rstrip("s") if len(w) > 3 else w for w in re.findall(r"[a-z0-9]+", text.lower())]
    return Counter(w for w in words if w not in _STOPWORDS)


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=False))


def _word_vectors(questions: list[str]) -> list[list[float]]:
    counts = [_words(q) for q in questions]
    vocabulary = {word: i for i, word in enumerate(sorted({w for c in counts for w in c}))}
    vectors = []
    for count in counts:
        vector = [0.0] * len(vocabulary)
        for word, n in count.items():
            vector[vocabulary[word]] = float(n)
        vectors.append(_unit(vector))
    return vectors


def group_gaps(gaps: list[Gap], embed: Embed | None = None) -> list[GapGroup]:
    """Gaps in groups of one meaning, most asked first (then most recent). Greedy: each question joins
    the group whose centre it is closest to, if close enough; the centre moves as members join."""
    if not gaps:
        return []
    questions = [g.question for g in gaps]
    if embed is not None:
        vectors = [_unit(embed(q)) for q in questions]
        threshold = SAME_TOPIC
    else:
        vectors = _word_vectors(questions)
        threshold = SAME_WORDS
    members: list[list[int]] = []
    sums: list[list[float]] = []
    for index, vector in enumerate(vectors):
        best, best_score = -1, threshold
        for group, total in enumerate(sums):
            score = _dot(vector, _unit(total))
            if score >= best_score:
                best, best_score = group, score
        if best < 0:
            members.append([index])
            sums.append(list(vector))
        else:
            members[best].append(index)
            sums[best] = [a + b for a, b in zip(sums[best], vector, strict=True)]
    groups = [_summary([gaps[i] for i in group], [vectors[i] for i in group], _unit(total))
              for group, total in zip(members, sums, strict=True)]
    return sorted(groups, key=lambda g: (-g.count, -g.last_asked.timestamp()))


def _summary(gaps: list[Gap], vectors: list[list[float]], centre: list[float]) -> GapGroup:
    closest = max(range(len(gaps)), key=lambda i: _dot(vectors[i], centre))
    cited = Counter(label for g in gaps for label in g.sources)
    return GapGroup(
        wording=gaps[closest].question, count=len(gaps), last_asked=max(g.asked_at for g in gaps),
        nothing_found=sum(g.nothing_found for g in gaps), weak=sum(g.weak for g in gaps),
        thumbs_down=sum(g.thumbs_down for g in gaps), sources=tuple(label for label, _ in cited.most_common(3)),
    )
