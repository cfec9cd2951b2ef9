"""What `/kb gaps`, `/kb stats` and `kbot gaps` show: the same figures, as chat text or as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.excerpt import excerpt
from bot.insights.gap_groups import Embed, GapGroup, group_gaps
from bot.insights.gaps import Area, Figures, GapLog

if TYPE_CHECKING:
    from bot.rag.knowledge_base import KnowledgeBase

SHOWN_TOPICS = 10


def _embedder(knowledge_base: KnowledgeBase | None) -> Embed | None:
    embedder = knowledge_base.embedder if knowledge_base is not None else None
    return embedder.embed_query if embedder is not None else None


@dataclass(frozen=True)
class GapReport:
    area: Area
    days: int
    groups: list[GapGroup]
    private_elsewhere: int = 0  # asked in private places other than this one: counted, never listed

    @property
    def questions(self) -> int:
        return sum(g.count for g in self.groups)

    def private_note(self) -> list[str]:
        if not self.private_elsewhere:
            return []
        return [f"{self.private_elsewhere} question(s) from private channels are counted but not shown here."]

    def text(self, limit: int = SHOWN_TOPICS) -> str:
        where = self.area.describe()
        if not self.groups:
            return "\n".join([f"No coverage gaps in {where} over the last {self.days} days: every question found "
                              "sources, and none of the answers got a 👎.", *self.private_note()])
        lines = [f"Missing topics in {where}, last {self.days} days: {self.questions} question(s) in "
                 f"{len(self.groups)} topic(s), most asked first."]
        for number, group in enumerate(self.groups[:limit], 1):
            lines.append(f"{number}. “{_quote(group.wording)}” — {describe(group)}")
        if len(self.groups) > limit:
            lines.append(f"…and {len(self.groups) - limit} more topic(s).")
        lines += self.private_note()
        lines.append("Add the documents that answer these with /kb upload or /kb add <url>.")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days, "area": self.area.describe(), "questions": self.questions,
            "topics": [{"wording": g.wording, "count": g.count, "last_asked": g.last_asked.isoformat(),
                        "nothing_found": g.nothing_found, "weak": g.weak, "thumbs_down": g.thumbs_down,
                        "thumbs_down_share": round(g.thumbs_down_share, 3), "sources": list(g.sources)}
                       for g in self.groups],
        }


def describe(group: GapGroup) -> str:
    parts = [f"asked {group.count}×, last {group.last_asked.astimezone(UTC):%Y-%m-%d}"]
    kinds = [f"{n} {label}" for n, label in ((group.nothing_found, "found nothing"),
                                            (group.weak, "weak sources")) if n]
    if kinds:
        parts.append(", ".join(kinds))
    if group.thumbs_down:
        parts.append(f"👎 {group.thumbs_down_share:.0%}")
    return "; ".join(parts)


def _quote(text: str) -> str:
    return excerpt(text, 140)


def gap_report(gaps: GapLog, knowledge_base: KnowledgeBase | None, area: Area, days: int) -> GapReport:
    """Blocking: database, and the embedder for every recorded question."""
    return GapReport(area, days, group_gaps(gaps.gaps(area, days), _embedder(knowledge_base)),
                     gaps.private_elsewhere(area, days))


@dataclass(frozen=True)
class StatsReport:
    area: Area
    figures: Figures
    new_documents: int
    gaps: GapReport

    def text(self) -> str:
        f = self.figures
        share = f" ({f.answered_share:.0%})" if f.answered_share is not None else ""
        lines = [f"Last {self.gaps.days} days in {self.area.describe()}: {f.questions} question(s), "
                 f"{f.answered} answered from sources{share}, 👍 {f.thumbs_up} / 👎 {f.thumbs_down}, "
                 f"{self.new_documents} new document(s)."]
        if self.gaps.groups:
            lines.append("Top gaps:")
            lines += [f"{n}. “{_quote(g.wording)}” — {describe(g)}" for n, g in enumerate(self.gaps.groups[:5], 1)]
        else:
            lines.append("No coverage gaps in that time.")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        f = self.figures
        return {"days": self.gaps.days, "area": self.area.describe(), "questions": f.questions,
                "answered": f.answered, "thumbs_up": f.thumbs_up, "thumbs_down": f.thumbs_down,
                "new_documents": self.new_documents, "gaps": self.gaps.to_json()["topics"]}


def new_documents(knowledge_base: KnowledgeBase, scopes: list[str] | None, days: int) -> int:
    since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    return sum(1 for info in knowledge_base.sources(scopes) if (info.indexed_at or "") >= since)


def stats_report(gaps: GapLog, knowledge_base: KnowledgeBase, area: Area, days: int,
                 scopes: list[str] | None) -> StatsReport:
    """Blocking: database, the store's metadata, and the embedder for the gaps."""
    return StatsReport(area, gaps.figures(area, days), new_documents(knowledge_base, scopes, days),
                       gap_report(gaps, knowledge_base, area, days))
