"""Answer text, streamed token by token into `streaming_callback`: from an OpenAI-compatible model
(kbot's lean SSE client), or quoted from the passages when there is no model."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from haystack import component, default_to_dict
from haystack.dataclasses import ChatMessage

from bot.core.messages import Source
from bot.rag.extractive import extractive_answer
from bot.rag.llm_client import LLMGenerator

StreamingCallback = Callable[[str], Awaitable[None]]


async def _ignore(_token: str) -> None:
    return None


@component
class StreamingChatGenerator:
    """Only when the gate found something relevant: otherwise the model is not asked at all."""

    RESOURCES: ClassVar[tuple[str, ...]] = ("llm",)

    def __init__(self, llm: LLMGenerator | None = None) -> None:
        self.llm = llm

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self)

    @component.output_types(text=str)
    def run(self, messages: list[ChatMessage], relevant: bool,
            streaming_callback: StreamingCallback | None = None) -> dict[str, str]:
        return asyncio.run(self.run_async(messages, relevant, streaming_callback))

    @component.output_types(text=str)
    async def run_async(self, messages: list[ChatMessage], relevant: bool,
                        streaming_callback: StreamingCallback | None = None) -> dict[str, str]:
        if not relevant:
            return {"text": ""}
        assert self.llm is not None, "StreamingChatGenerator needs the model client (a pipeline resource)"
        return {"text": await self.llm.stream(messages, streaming_callback or _ignore)}


@component
class ExtractiveAnswerer:
    """The passages' best-matching sentences, quoted and cited, streamed word by word like a model's tokens."""

    @component.output_types(text=str)
    def run(self, question: str, sources: list[Source], relevant: bool,
            streaming_callback: StreamingCallback | None = None) -> dict[str, str]:
        return asyncio.run(self.run_async(question, sources, relevant, streaming_callback))

    @component.output_types(text=str)
    async def run_async(self, question: str, sources: list[Source], relevant: bool,
                        streaming_callback: StreamingCallback | None = None) -> dict[str, str]:
        if not relevant or not sources:
            return {"text": ""}
        text = extractive_answer(question, sources)
        for word in re.findall(r"\S+\s*", text):
            await (streaming_callback or _ignore)(word)
        return {"text": text}
