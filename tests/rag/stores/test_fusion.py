"""Score fusion: meaning decides, keyword matches break near-ties and can lift a passage the vector
list ranked low, never one whose meaning is far off."""

from __future__ import annotations

import pytest

from bot.rag.stores.fusion import KEYWORD_WEIGHT, score_fusion


def test_a_keyword_match_breaks_a_near_tie_of_meaning() -> None:
    vector = [("a", 0.62), ("b", 0.61), ("c", 0.40)]
    keyword = [("b", 9.0), ("c", 3.0)]
    fused = score_fusion(keyword, vector, top_k=3)
    assert list(fused) == ["b", "a", "c"]
    assert fused["b"] == pytest.approx(0.61 + KEYWORD_WEIGHT)
    assert fused["c"] == pytest.approx(0.40 + KEYWORD_WEIGHT / 3)


def test_the_best_keyword_match_does_not_beat_a_clearly_closer_meaning() -> None:
    fused = score_fusion([("far", 20.0)], [("close", 0.70), ("far", 0.45)], top_k=2)
    assert list(fused) == ["close", "far"]


def test_a_passage_only_the_keyword_list_found_counts_as_the_least_similar() -> None:
    fused = score_fusion([("words", 5.0)], [("x", 0.50), ("y", 0.30)], top_k=3)
    assert fused["words"] == pytest.approx(0.30 + KEYWORD_WEIGHT)
    assert list(fused) == ["x", "words", "y"]


def test_empty_lists_and_top_k() -> None:
    assert score_fusion([], [], top_k=5) == {}
    assert list(score_fusion([], [("x", 0.5), ("y", 0.4)], top_k=1)) == ["x"]
    assert list(score_fusion([("k", 1.0), ("j", 0.5)], [], top_k=5)) == ["k", "j"]
    assert score_fusion([("k", 0.0)], [("x", 0.2)], top_k=5) == {"x": 0.2, "k": 0.2}  # no BM25 mass: no bonus
