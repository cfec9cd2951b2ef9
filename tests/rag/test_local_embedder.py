"""The local embedder: offline all-MiniLM-L6-v2; bfloat16 and float32 vectors share one space."""

from __future__ import annotations

import math

from bot.rag.embedders import EmbedderOptions, build_embedder


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_precisions_agree_and_share_a_fingerprint(local_embedder) -> None:
    exact = build_embedder(EmbedderOptions(kind="local", precision="float32"))
    fast = build_embedder(EmbedderOptions(kind="local", precision="bfloat16"))
    assert exact.fingerprint == fast.fingerprint == local_embedder.fingerprint
    text = "Report a lost laptop to the security team within one hour."
    a, b = exact.embed_query(text), fast.embed_query(text)
    assert len(a) == 384 and _cosine(a, b) > 0.999
    assert _cosine(a, exact.embed_query("Meals are reimbursed up to 75 EUR per day.")) < 0.5
