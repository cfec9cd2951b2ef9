"""Which numbered passages an answer cites (ports render them: bot/adapters/formatting.py)."""

from __future__ import annotations

import re

from bot.core.messages import Source

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def cited_numbers(text: str) -> set[int]:
    numbers: set[int] = set()
    for match in _CITATION.finditer(text):
        numbers.update(int(n) for n in re.split(r"\s*,\s*", match.group(1)))
    return numbers


def cited_sources(text: str, sources: list[Source]) -> list[Source]:
    """The sources the answer actually cites, in their number order; uncited ones are dropped."""
    cited = cited_numbers(text)
    return [s for s in sources if s.number in cited]
