"""What pipeline components need at run time and YAML cannot hold: the knowledge base, the model
client, secrets. Components name them in `RESOURCES`; building or loading a pipeline hands them in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Resources:
    knowledge_base: Any = None  # bot.rag.knowledge_base.KnowledgeBase
    llm: Any = None  # bot.rag.llm_client.LLMGenerator, or None for extractive answers
    rerank_api_key: str | None = None
    chunking: Any = None  # bot.rag.splitting.Chunking, from knowledge.chunk_words / chunk_overlap_words
    limits: Any = None  # bot.rag.parsing.Limits, from knowledge.max_file_mb and the PDF limits

    def for_component(self, component_class: type) -> dict[str, Any]:
        """The init parameters a component class asks for by name (its `RESOURCES`)."""
        return {name: getattr(self, name) for name in getattr(component_class, "RESOURCES", ())}
