"""One question, end to end and platform-free: memory, retrieval, a streamed cited answer, memory again."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass

from haystack.dataclasses import Document

from bot.config import AnswerSettings
from bot.memory import ThreadMemory, Turn
from bot.messages import Answer, Incoming, ReplyPort, Source
from bot.rag.citations import cited_sources
from bot.rag.extractive import extractive_answer
from bot.rag.generation import GenerationFailed, LLMGenerator
from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.prompts import answer_messages, rewrite_messages
from bot.streaming import Streamer

log = logging.getLogger("kbot.conversation")

NOTHING_FOUND = (
    "I couldn't find anything about that in the knowledge base. Try other words, or add the document "
    "that answers it."
)
INTERNAL_ERROR = "Something went wrong while answering; please try again."
_FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|but|then|so)\b|\b(it|its|that|this|those|these|they|them|one|ones|"
    r"first|second|third|last|same|there)\b",
    re.IGNORECASE,
)


def fallback_standalone(question: str, history: list[Turn]) -> str:
    """Without an LLM: a short or referring question is searched together with the previous one."""
    if not history:
        return question
    if len(question.split()) <= 6 or _FOLLOW_UP.search(question):
        return f"{history[-1].question} {question}"
    return question


def to_sources(documents: list[Document]) -> list[Source]:
    return [
        Source(
            number=i,
            source=str(d.meta.get("source")),
            title=d.meta.get("title"),
            page=d.meta.get("page"),
            heading=d.meta.get("heading"),
            url=d.meta.get("url"),
            score=float(d.score or 0.0),
            text=d.content or "",
        )
        for i, d in enumerate(documents, 1)
    ]


def too_long(text: str, max_chars: int) -> str | None:
    """The refusal for an over-long question, or None."""
    if len(text) <= max_chars:
        return None
    return (f"That message is {len(text):,} characters; kbot answers questions of up to {max_chars:,}. "
            "Please ask a shorter question (a file can be added with /kb upload).")


@dataclass
class Conversation:
    knowledge_base: KnowledgeBase
    memory: ThreadMemory
    llm: LLMGenerator | None
    settings: AnswerSettings
    max_question_chars: int = 4000  # longer questions are refused before anything is read or asked

    @property
    def mode(self) -> str:
        return "llm" if self.llm is not None else "extractive"

    async def answer_once(self, incoming: Incoming, port: ReplyPort) -> Answer | None:
        """`answer`, then release the LLM connection: for one-shot callers with their own event loop."""
        try:
            return await self.answer(incoming, port)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self.llm is not None:
            await self.llm.aclose()

    async def standalone_query(self, question: str, history: list[Turn]) -> str:
        if not history:
            return question
        if self.llm is not None:
            try:
                rewritten = await self.llm.complete(rewrite_messages(question, history), timeout_s=10)
                if rewritten:
                    return rewritten.splitlines()[0].strip().strip('"')
            except GenerationFailed as exc:
                log.info("follow-up rewrite fell back: %s", exc)
        return fallback_standalone(question, history)

    async def answer(self, incoming: Incoming, port: ReplyPort) -> Answer | None:
        """Stream an answer to `port` and remember it; None when it failed (and nothing is saved)."""
        streamer = Streamer(port)
        started = time.monotonic()
        reply_id = uuid.uuid4().hex[:16]
        refusal = too_long(incoming.text, self.max_question_chars)
        if refusal is not None:
            await streamer.fail(refusal)
            return None
        try:
            await port.start()
            history = await asyncio.to_thread(self.memory.history, incoming.key)
            query = await self.standalone_query(incoming.text, history)
            retrieval_started = time.monotonic()
            found = await asyncio.to_thread(self.knowledge_base.retrieve, query, incoming.scopes)
            retrieval_s = time.monotonic() - retrieval_started
            if not found.documents or found.best_similarity < self.settings.min_similarity:
                answer = Answer(NOTHING_FOUND, [], self.mode, grounded=False, reply_id=reply_id,
                                retrieval_s=retrieval_s)
            else:
                sources = to_sources(found.documents)
                text = await self._generate(incoming.text, sources, history, streamer)
                cited = cited_sources(text, sources)
                first_token_s = None if streamer.first_token_at is None else streamer.first_token_at - started
                answer = Answer(text, cited, self.mode, reply_id=reply_id, retrieval_s=retrieval_s,
                                first_token_s=first_token_s, tokens=streamer.tokens)
            await streamer.finish(answer)
        except GenerationFailed as exc:
            await streamer.fail(str(exc))
            return None
        except Exception:
            log.exception("answering failed")
            await streamer.fail(INTERNAL_ERROR)
            return None
        try:
            await asyncio.to_thread(
                self.memory.remember, incoming.key, question=incoming.text, query=query, answer=answer.text,
                sources=[{"source": s.source, "page": s.page, "number": s.number} for s in answer.sources],
                mode=answer.mode, author=incoming.author, reply_id=reply_id,
            )
        except Exception:  # the answer was delivered; only a follow-up will miss it
            log.exception("could not remember the answer (reply %s)", reply_id)
        return answer

    async def _generate(self, question: str, sources: list[Source], history: list[Turn], streamer: Streamer) -> str:
        if self.llm is not None:
            return await self.llm.stream(answer_messages(question, sources, history), streamer.push)
        text = extractive_answer(question, sources)
        for word in re.findall(r"\S+\s*", text):  # streamed the same way as model tokens
            await streamer.push(word)
        return text
