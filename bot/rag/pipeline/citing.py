"""The finished answer: the sources it actually cites, or the "nothing found" reply."""

from __future__ import annotations

from haystack import component

from bot.messages import Answer, Source
from bot.rag.citations import cited_sources

NOTHING_FOUND = (
    "I couldn't find anything about that in the knowledge base. Try other words, or add the document "
    "that answers it."
)


@component
class CitationFilter:
    """Uncited passages are dropped; an empty or irrelevant answer becomes NOTHING_FOUND (grounded=False)."""

    @component.output_types(answer=Answer)
    def run(self, text: str, sources: list[Source], relevant: bool) -> dict[str, Answer]:
        if not relevant or not text.strip():
            return {"answer": Answer(NOTHING_FOUND, [], grounded=False)}
        return {"answer": Answer(text, cited_sources(text, sources))}

    @component.output_types(answer=Answer)
    async def run_async(self, text: str, sources: list[Source], relevant: bool) -> dict[str, Answer]:
        return self.run(text, sources, relevant)  # no I/O: no worker thread for it
