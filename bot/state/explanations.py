""""Why these sources?": for one answer, how each cited passage was found, read back from the turn
kbot remembered (so it works in any process, and only in the place the answer was given)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.messages import Why
from bot.core.requests import Place
from bot.state.db import ThreadRow, TurnRow

WHY_LABEL = "Why these sources?"  # the button every platform shows under a cited answer
UNKNOWN = "That answer is no longer on record, so there is nothing to explain."
NO_SOURCES = "That answer cites no sources: nothing in the knowledge base was relevant enough."
MAX_CHARS = 1900  # fits one Discord message, a Slack ephemeral and a Telegram message


def describe(why: Why | None) -> str:
    """One source's line after its label, e.g. `keyword #2 (BM25 4.1) · vector #1 (similarity 0.62) · …`."""
    if why is None:
        return "no ranking details were recorded"
    parts = []
    if why.keyword_rank is not None:
        score = f" (BM25 {why.keyword_score:.2f})" if why.keyword_score is not None else ""
        parts.append(f"keyword #{why.keyword_rank}{score}")
    if why.vector_rank is not None:
        score = f" (similarity {why.vector_score:.2f})" if why.vector_score is not None else ""
        parts.append(f"vector #{why.vector_rank}{score}")
    if why.fused_score is not None and why.keyword_rank is not None and why.vector_rank is not None:
        parts.append(f"fused {why.fused_score:.2f}")
    elif why.fused_score is not None:
        parts.append(f"fused {why.fused_score:.2f}, found by one search only")
    if why.rerank_score is not None:
        parts.append(f"reranker {why.rerank_score:.2f}")
    parts.append("matched: " + ", ".join(why.matched_terms) if why.matched_terms else "no query word in common")
    return " · ".join(parts)


def explanation(query: str, sources: list[dict[str, Any]]) -> str:
    """The text shown to whoever asked: the query searched, then each cited source and its ranks."""
    cited = [s for s in sources if isinstance(s, dict)]
    if not cited:
        return NO_SOURCES
    lines = [f"Why these sources? kbot searched for: {query[:200]}"]
    for source in cited:
        label = str(source.get("label") or source.get("source") or "?")[:150]
        why = Why.from_json(source.get("why"))
        lines.append(f"[{source.get('number', '?')}] {label}: {describe(why)}")
    text = "\n".join(lines)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


class Explanations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def explain(self, reply_id: str, place: Place) -> str:
        """Blocking: database. An answer from another place reads as unknown (nothing leaks across)."""
        with Session(self.engine) as session:
            row = session.execute(
                select(TurnRow.query, TurnRow.sources).join(ThreadRow, ThreadRow.id == TurnRow.thread_id)
                .where(TurnRow.reply_id == reply_id, ThreadRow.platform == place.platform,
                       ThreadRow.workspace == place.workspace, ThreadRow.channel == place.channel)
            ).first()
        if row is None:
            return UNKNOWN
        return explanation(row.query, row.sources or [])
