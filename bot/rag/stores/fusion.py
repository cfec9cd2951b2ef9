"""How kbot merges keyword and vector rankings, whatever the store.

`score_fusion` is what a question uses: the cosine similarity, plus a small bonus for the keyword
match (BM25 relative to the best in its list). Meaning decides, words break near-ties. On the public
evaluation set (real Bash and Python manuals, questions phrased as in chat) it ranks the right page
first for 0.72 of questions where reciprocal rank fusion managed 0.60, and within the top 5 for 0.91
where it managed 0.83; reciprocal rank fusion gives a keyword-only match as much weight as the
closest meaning, and on paraphrased questions the words are the weaker signal.
"""

from __future__ import annotations

RRF_K = 60
KEYWORD_WEIGHT = 0.08  # the bonus of the best BM25 match, in units of cosine similarity
FUSION_CANDIDATES = 50  # each list's length before fusion: deep enough for a keyword match to climb

Ranking = list[tuple[str, float]]  # (id, score), best first


def rank_fusion(rankings: list[list[str]], top_k: int, k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion of id lists, best first, normalised so first everywhere scores 1.0."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank + 1)
    best = len(rankings) / (k + 1) or 1.0
    ordered = sorted(scores, key=lambda i: scores[i], reverse=True)[:top_k]
    return {doc_id: scores[doc_id] / best for doc_id in ordered}


def score_fusion(keyword: Ranking, vector: Ranking, top_k: int, weight: float = KEYWORD_WEIGHT) -> dict[str, float]:
    """cosine + weight × BM25 / best BM25, best first (ties keep the vector list's order).

    A passage only the keyword list found is given the lowest similarity the vector list holds:
    it was not among the closest in meaning, so the words must carry it.
    """
    similarity = dict(vector)
    floor = min(similarity.values()) if similarity else 0.0
    best = max((score for _, score in keyword), default=0.0)
    bonus = {doc_id: weight * score / best for doc_id, score in keyword} if best > 0 else {}
    order = list(dict.fromkeys([doc_id for doc_id, _ in vector] + [doc_id for doc_id, _ in keyword]))
    fused = {doc_id: similarity.get(doc_id, floor) + bonus.get(doc_id, 0.0) for doc_id in order}
    ranked = sorted(order, key=lambda i: fused[i], reverse=True)[:top_k]
    return {doc_id: fused[doc_id] for doc_id in ranked}
