"""Reciprocal rank fusion: the one way kbot merges keyword and vector rankings, whatever the store."""

from __future__ import annotations

RRF_K = 60


def rank_fusion(rankings: list[list[str]], top_k: int, k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion of id lists, best first, normalised so first everywhere scores 1.0."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank + 1)
    best = len(rankings) / (k + 1) or 1.0
    ordered = sorted(scores, key=lambda i: scores[i], reverse=True)[:top_k]
    return {doc_id: scores[doc_id] / best for doc_id in ordered}
