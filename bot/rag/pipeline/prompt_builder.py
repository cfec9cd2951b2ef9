"""The prompt: numbered sources from the kept documents, and the chat messages for the model."""

from __future__ import annotations

from typing import Any

from haystack import component
from haystack.dataclasses import ChatMessage, Document

from bot.core.messages import Source, Turn, Why
from bot.rag.prompts import answer_messages


def to_sources(documents: list[Document]) -> list[Source]:
    return [
        Source(number=i, source=str(d.meta.get("source")), title=d.meta.get("title"), page=d.meta.get("page"),
               heading=d.meta.get("heading"), url=d.meta.get("url"), score=float(d.score or 0.0),
               text=d.content or "", why=Why.from_json(d.meta.get("_why")), page_end=d.meta.get("page_end"))
        for i, d in enumerate(documents, 1)
    ]


@component
class AnswerPromptBuilder:
    """Passages go in one block marked as untrusted reference material (see bot/rag/prompts.py)."""

    @component.output_types(messages=list[ChatMessage], sources=list[Source])
    def run(self, question: str, history: list[Turn], documents: list[Document]) -> dict[str, Any]:
        sources = to_sources(documents)
        return {"messages": answer_messages(question, sources, history), "sources": sources}

    @component.output_types(messages=list[ChatMessage], sources=list[Source])
    async def run_async(self, question: str, history: list[Turn], documents: list[Document]) -> dict[str, Any]:
        return self.run(question, history, documents)  # no I/O: no worker thread for it
