"""OpenAI-compatible chat through Haystack's OpenAIChatGenerator: streamed, retried inside a deadline.

Failures become one message for the person; a retry only happens before the first token was sent,
so nobody sees an answer start twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from haystack.dataclasses import ChatMessage, StreamingChunk

from bot.config import LLMSettings

log = logging.getLogger("kbot.llm")


class GenerationFailed(Exception):
    """The model gave no usable answer; `str(self)` is the message for the person."""


class LLMGenerator:
    def __init__(self, settings: LLMSettings) -> None:
        from haystack.components.generators.chat import OpenAIChatGenerator
        from haystack.utils import Secret

        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else "unused"
        self.where = settings.base_url or "the OpenAI API"
        self._generator = OpenAIChatGenerator(
            api_key=Secret.from_token(key),
            model=settings.model,
            api_base_url=settings.base_url,
            timeout=settings.timeout_s,
            max_retries=0,  # retries are ours, inside one deadline
            generation_kwargs={"temperature": settings.temperature},
        )

    async def stream(self, messages: list[ChatMessage], on_token: Callable[[str], Awaitable[None]]) -> str:
        """The full answer text; tokens go to `on_token` as they arrive."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.timeout_s
        attempt = 0
        while True:
            attempt += 1
            sent = False

            async def forward(chunk: StreamingChunk) -> None:
                nonlocal sent
                if chunk.content:
                    sent = True
                    await on_token(chunk.content)

            remaining = deadline - loop.time()
            try:
                result = await asyncio.wait_for(
                    self._generator.run_async(messages, streaming_callback=forward), timeout=max(remaining, 0.001)
                )
                text = (result["replies"][0].text or "") if result.get("replies") else ""
                if text.strip():
                    return text
                failure = GenerationFailed("The language model returned an empty answer; please try again.")
            except TimeoutError:
                failure = GenerationFailed(
                    f"The language model did not answer within {self.settings.timeout_s:g} s; please try again."
                )
            except Exception as exc:  # the OpenAI client's many error types, worded for people below
                failure = self._explain(exc)
                if not _retryable(exc):
                    raise failure from None
            log.warning("LLM attempt %d failed: %s", attempt, failure)
            backoff = min(0.5 * 2 ** (attempt - 1), 4.0)
            if sent or attempt >= self.settings.max_attempts or loop.time() + backoff >= deadline:
                raise failure
            await asyncio.sleep(backoff)

    async def complete(self, messages: list[ChatMessage], timeout_s: float) -> str:
        """One short non-streamed completion (follow-up rewriting); raises GenerationFailed."""
        try:
            result = await asyncio.wait_for(self._generator.run_async(messages), timeout=timeout_s)
        except Exception as exc:
            raise self._explain(exc) from None
        return (result["replies"][0].text or "").strip() if result.get("replies") else ""

    def _explain(self, exc: BaseException) -> GenerationFailed:
        status = getattr(exc, "status_code", None)
        name = exc.__class__.__name__
        if isinstance(exc, TimeoutError) or name == "APITimeoutError":
            text = f"The language model did not answer within {self.settings.timeout_s:g} s; please try again."
        elif status == 429:
            text = "The language model is busy (rate limited); please try again in a minute."
        elif status is not None and status >= 500:
            text = f"The language model had an error (HTTP {status}); please try again."
        elif status in (401, 403):
            text = "The language model refused the API key; an admin should check llm.api_key."
        elif status is not None:
            text = f"The language model rejected the request (HTTP {status}); an admin should check the llm settings."
        elif name == "APIConnectionError":
            text = f"Could not reach the language model at {self.where}; please try again later."
        else:
            text = "The language model failed to answer; please try again."
        return GenerationFailed(text)


def _retryable(exc: BaseException) -> bool:
    status: Any = getattr(exc, "status_code", None)
    if status is not None:
        return status == 429 or status >= 500
    return exc.__class__.__name__ in {"APIConnectionError", "APITimeoutError"}
