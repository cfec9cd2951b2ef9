"""One question, end to end and platform-free: memory, the answer pipeline (retrieval, a streamed cited
answer), memory again."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from haystack import Pipeline
from haystack.core.errors import PipelineRuntimeError

from bot.chat.streaming import Streamer
from bot.config import AnswerSettings
from bot.core.clock import SYSTEM_CLOCK, Clock
from bot.core.limits import too_long
from bot.core.messages import Answer, Incoming, ReplyPort
from bot.core.scopes import in_private_place
from bot.rag.knowledge_base import KnowledgeBase
from bot.rag.llm_client import GenerationFailed, LLMGenerator
from bot.rag.pipeline.answer_pipeline import AnswerOptions, check_answer_pipeline, default_answer_pipeline
from bot.rag.pipeline.citation_filter import NOTHING_FOUND
from bot.rag.pipeline.contract import raised_within
from bot.rag.pipeline.presets import preset as preset_for
from bot.state.database_watch import is_outage
from bot.state.memory import ThreadMemory

log = logging.getLogger("kbot.conversation")

INTERNAL_ERROR = "Something went wrong while answering; please try again."

__all__ = ["NOTHING_FOUND", "Conversation", "too_long"]


@dataclass
class Conversation:
    knowledge_base: KnowledgeBase
    memory: ThreadMemory
    llm: LLMGenerator | None
    settings: AnswerSettings
    max_question_chars: int = 4000  # longer questions are refused before anything is read or asked
    pipeline: Pipeline | None = None  # None: the default answer pipeline over the parts above
    preset: str = "balanced"  # where a channel chose none
    reranked: bool = False  # the pipeline has a reranker (a preset then retrieves more for it to choose from)
    clock: Clock = SYSTEM_CLOCK  # paces the streamed edits
    # Personal data out of the question before it goes to the model (`privacy.redact_before_llm`); the
    # history it is sent comes from memory, which keeps only redacted text.
    redact_for_llm: Callable[[str], str] | None = None
    _outputs: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _accepted: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.pipeline is None:
            options = AnswerOptions(top_k=self.knowledge_base.default_top_k,
                                    min_similarity=self.settings.min_similarity, extractive=self.llm is None)
            self.pipeline = default_answer_pipeline(options, self.knowledge_base, self.llm)
        self._outputs = check_answer_pipeline(self.pipeline)
        self._accepted = {socket for sockets in self.pipeline.inputs().values() for socket in sockets}

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

    def inputs(self, incoming: Incoming, history: list[Any], streaming_callback: Any) -> dict[str, Any]:
        """The pipeline's flat inputs for this question: what was asked, where, and the preset's knobs."""
        knobs = preset_for(incoming.preset or self.preset, self.knowledge_base.default_top_k, self.reranked).inputs()
        question = incoming.text
        if self.llm is not None and self.redact_for_llm is not None:
            question = self.redact_for_llm(question)
        data = {"question": question, "history": history, "scopes": sorted(incoming.scopes),
                "streaming_callback": streaming_callback, **knobs}
        return {name: value for name, value in data.items() if name in self._accepted}

    async def answer(self, incoming: Incoming, port: ReplyPort) -> Answer | None:
        """Stream an answer to `port` and remember it; None when it failed (and nothing is saved, unless only
        the final message could not be delivered)."""
        assert self.pipeline is not None
        streamer = Streamer(port, self.clock)
        started = time.monotonic()
        reply_id = uuid.uuid4().hex[:16]
        refusal = too_long(incoming.text, self.max_question_chars)
        if refusal is not None:
            await streamer.fail(refusal)
            return None
        try:
            await port.start()
            history = await asyncio.to_thread(self.memory.history, incoming.key)

            async def stream(token: str) -> None:  # a plain function: Haystack deep-copies inputs, not functions
                await streamer.push(token)

            result = await self.pipeline.run_async(self.inputs(incoming, history, stream),
                                                   include_outputs_from=set(self._outputs.values()))
            produced = {name: result.get(component, {}).get(name) for name, component in self._outputs.items()}
            first_token_s = None if streamer.first_token_at is None else streamer.first_token_at - started
            answer: Answer = replace(produced["answer"], mode=self.mode, reply_id=reply_id, first_token_s=first_token_s,
                             retrieval_s=produced.get("retrieval_s"), tokens=streamer.tokens,
                             best_similarity=produced.get("best_similarity"))
            # Remembered before the final lands: its buttons (why, vote, share) look the reply up, and a
            # person can click them the moment they appear.
            await self._remember(incoming, produced.get("query") or incoming.text, answer)
            await streamer.finish(answer)
        except (GenerationFailed, PipelineRuntimeError) as exc:
            failure = raised_within(exc, GenerationFailed)
            if failure is None:
                log.exception("answering failed")
                await streamer.fail(INTERNAL_ERROR)
            else:
                await streamer.fail(str(failure))
            return None
        except Exception as exc:
            if is_outage(exc):  # the service holds the question until the database is back
                raise
            log.exception("answering failed")
            await streamer.fail(INTERNAL_ERROR)
            return None
        return answer

    async def _remember(self, incoming: Incoming, query: str, answer: Answer) -> None:
        try:
            await asyncio.to_thread(
                self.memory.remember, incoming.key, question=incoming.text, query=query, answer=answer.text,
                sources=[{"source": s.source, "page": s.page, "number": s.number, "label": s.label(),
                          "why": s.why.to_json() if s.why else None, "title": s.title, "heading": s.heading,
                          "url": s.url, "page_end": s.page_end} for s in answer.sources],
                mode=answer.mode, author=incoming.author, reply_id=answer.reply_id,
                private=in_private_place(incoming.scopes),
            )
        except Exception as exc:  # the answer is still delivered; only a follow-up or a button will miss it
            if not is_outage(exc):
                log.exception("could not remember the answer (reply %s)", answer.reply_id)
            else:
                log.warning("could not remember the answer (reply %s): the database is away", answer.reply_id)
