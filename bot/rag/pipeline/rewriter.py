"""Follow-up questions ("and sick days?") become standalone search queries."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, ClassVar

from haystack import component, default_to_dict

from bot.core.messages import Turn
from bot.rag.llm_client import GenerationFailed, LLMGenerator
from bot.rag.prompts import rewrite_messages

log = logging.getLogger("kbot.conversation")

_FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|but|then|so)\b|\b(it|its|that|this|those|these|they|them|one|ones|"
    r"first|second|third|last|same|there)\b",
    re.IGNORECASE,
)


def fallback_standalone(question: str, history: list[Turn]) -> str:
    """Without an LLM: a short or referring question is searched together with the previous one."""
    if not history or question.strip().lower() == history[-1].question.strip().lower():
        return question
    if len(question.split()) <= 6 or _FOLLOW_UP.search(question):
        return f"{history[-1].question} {question}"
    return question


@component
class FollowUpRewriter:
    """By the model when there is one (one short completion), else by the rule above; `rewrite=False`
    (the fast preset) searches the question as asked."""

    RESOURCES: ClassVar[tuple[str, ...]] = ("llm",)

    def __init__(self, llm: LLMGenerator | None = None, timeout_s: float = 10.0) -> None:
        self.llm = llm
        self.timeout_s = timeout_s

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, timeout_s=self.timeout_s)

    @component.output_types(query=str)
    def run(self, question: str, history: list[Turn], rewrite: bool = True) -> dict[str, str]:
        return asyncio.run(self.run_async(question, history, rewrite))

    @component.output_types(query=str)
    async def run_async(self, question: str, history: list[Turn], rewrite: bool = True) -> dict[str, str]:
        if not history or not rewrite:
            return {"query": question}
        if self.llm is not None:
            try:
                rewritten = await self.llm.complete(rewrite_messages(question, history), timeout_s=self.timeout_s)
                if rewritten:
                    return {"query": rewritten.splitlines()[0].strip().strip('"')}
            except GenerationFailed as exc:
                log.info("follow-up rewrite fell back: %s", exc)
        return {"query": fallback_standalone(question, history)}
