"""Retrieval presets: how much work an answer does. `balanced` is kbot's default; admins choose one per
channel (`/kb preset`), `retrieval.preset` for everywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PresetName = Literal["fast", "balanced", "accurate"]
PRESETS: tuple[PresetName, ...] = ("fast", "balanced", "accurate")
DESCRIPTIONS = {
    "fast": "keyword search only, fewer passages, no rewriting of follow-ups, no reranking",
    "balanced": "the configured retrieval mode, follow-ups rewritten, reranked when a reranker is configured",
    "accurate": "wider candidate lists for fusion and reranking, follow-ups rewritten",
}


@dataclass(frozen=True)
class Preset:
    name: PresetName
    rewrite: bool  # follow-ups become standalone queries (one short model call where there is a model)
    mode: str | None  # None: the configured retrieval mode
    retrieve: int  # documents the retriever returns
    candidates: int | None  # each list's length before fusion (None: the knowledge base's default)
    keep: int  # documents that reach the prompt
    rerank: bool

    def inputs(self) -> dict[str, Any]:
        """The pipeline inputs this preset sets (flat: every component taking one of them receives it)."""
        return {"rewrite": self.rewrite, "mode": self.mode, "top_k": self.retrieve, "candidates": self.candidates,
                "keep": self.keep, "rerank": self.rerank}


def preset(name: str, top_k: int, reranked: bool) -> Preset:
    """`name` for answers keeping `top_k` passages; `reranked`: the pipeline has a reranker."""
    if name == "fast":
        return Preset("fast", False, "keyword", max(3, top_k - 2), None, max(3, top_k - 2), False)
    if name == "accurate":
        return Preset("accurate", True, None, top_k * 4, top_k * 8, top_k, True)
    return Preset("balanced", True, None, top_k * 2 if reranked else top_k, None, top_k, True)
