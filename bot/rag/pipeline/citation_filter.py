"""The finished answer: the sources it actually cites, or the "nothing found" reply."""

from __future__ import annotations

from haystack import component

from bot.core.messages import Answer, Source
from bot.core.shown import keep_known_links, known_links
from bot.rag.citations import cited_sources

NOTHING_FOUND = (
    "I couldn't find anything about that in the knowledge base. Try other words, or add the document "
    "that answers it."
)


@component
class CitationFilter:
    """Uncited passages are dropped; an empty or irrelevant answer becomes NOTHING_FOUND (grounded=False).
    A link in the answer stays a link only when a cited passage or the question holds it; any other
    (a model led astray by a document's hidden instructions) is defanged (bot/core/shown.py)."""

    @component.output_types(answer=Answer)
    def run(self, text: str, sources: list[Source], relevant: bool, question: str = "") -> dict[str, Answer]:
        if not relevant or not text.strip():
            return {"answer": Answer(NOTHING_FOUND, [], grounded=False)}
        cited = cited_sources(text, sources)
        known = known_links([question, *(s.text for s in cited), *(s.url for s in cited)])
        return {"answer": Answer(keep_known_links(text, known), cited)}

    @component.output_types(answer=Answer)
    async def run_async(self, text: str, sources: list[Source], relevant: bool,
                        question: str = "") -> dict[str, Answer]:
        return self.run(text, sources, relevant, question)  # no I/O: no worker thread for it
