"""OpenAI-compatible chat, streamed and retried inside one deadline.

Failures become one message for the person; a retry only happens before the first token was sent,
so nobody sees an answer start twice.

The chat completions API is spoken directly (aiohttp, server-sent events, `json.loads` per chunk)
rather than through the openai SDK and Haystack's generator: their typed models and transport
cost about 0.4 ms of CPU per streamed token, which at 100 concurrent answers saturates the event
loop every chat shares (bench/platforms.py). Prompts are still Haystack ChatMessages.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from haystack.dataclasses import ChatMessage

from bot.core.clock import SYSTEM_CLOCK, Clock, wait_for
from bot.core.retry import Backoff

log = logging.getLogger("kbot.llm")

OPENAI_BASE = "https://api.openai.com/v1"


class GenerationFailed(Exception):
    """The model gave no usable answer; `str(self)` is the message for the person."""


class AnswerCutOff(GenerationFailed):
    """The stream ended before the model said it had finished: what was shown is incomplete."""


class StreamEndedEarly(Exception):
    """The body ended with neither `[DONE]` nor a `finish_reason` (a dropped connection or proxy)."""


CUT_OFF = "The answer was cut off before the model finished (its connection ended early); please ask again."
TRUNCATED = ("The answer is incomplete: the model stopped at its length limit. Ask a narrower question, or an "
             "admin can raise the model's output limit.")
FILTERED = "The answer is incomplete: the model's provider stopped it (content filter)."
# finish_reason values that mean the model finished what it meant to say.
_FINISHED = {"stop", "eos", "end_turn", "tool_calls", "function_call"}


class LLMHTTPError(Exception):
    """The server answered with an error status."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"HTTP {status_code}: {detail[:200]}")
        self.status_code = status_code


def _wire(messages: list[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role.value, "content": m.text or ""} for m in messages]


@dataclass(frozen=True)
class LLMOptions:
    """The chat model and how to reach it (plain values: the app maps its settings onto these)."""

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    timeout_s: float = 30.0  # one answer's deadline, retries included
    max_attempts: int = 3  # tries before the first token, inside timeout_s
    temperature: float = 0.2


class LLMGenerator:
    def __init__(self, options: LLMOptions, clock: Clock = SYSTEM_CLOCK) -> None:
        self.options = options
        self.clock = clock  # the deadline and the backoff between attempts
        self.where = options.base_url or "the OpenAI API"
        self._key = options.api_key
        self._url = (self.options.base_url or OPENAI_BASE).rstrip("/") + "/chat/completions"
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> aiohttp.ClientSession:
        """One pooled session per event loop (tests and the CLI may run several loops in turn)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
            self._session = aiohttp.ClientSession(
                headers=headers, connector=aiohttp.TCPConnector(limit=256),
                timeout=aiohttp.ClientTimeout(total=None, connect=min(10.0, self.options.timeout_s)),
            )
            self._loop = loop
        return self._session

    async def warm_up(self) -> None:
        """Build the HTTP session now: its TLS setup blocks the event loop for a moment."""
        self._http()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _body(self, messages: list[ChatMessage], stream: bool) -> dict[str, Any]:
        return {"model": self.options.model, "messages": _wire(messages), "stream": stream,
                "temperature": self.options.temperature}

    async def _stream_once(
        self, messages: list[ChatMessage], on_text: Callable[[str], Awaitable[None]]
    ) -> tuple[str, str]:
        """The streamed text and how it ended: a `finish_reason`, or "done" for a bare `[DONE]`.

        A body that simply stops is not an answer: without `[DONE]` or a `finish_reason` nothing says
        the model finished, so it raises StreamEndedEarly.
        """
        parts: list[str] = []
        finish: str | None = None
        async with self._http().post(self._url, json=self._body(messages, True)) as response:
            if response.status >= 400:
                raise LLMHTTPError(response.status, await response.text(errors="replace"))
            async for raw in response.content:  # one SSE line at a time
                if not raw.startswith(b"data:"):
                    continue
                data = raw[5:].strip()
                if data == b"[DONE]":
                    return "".join(parts), finish or "done"
                choices = json.loads(data).get("choices") or []
                if not choices:
                    continue
                finish = choices[0].get("finish_reason") or finish
                content = (choices[0].get("delta") or {}).get("content")
                if content:
                    parts.append(content)
                    await on_text(content)
        if finish is None:
            raise StreamEndedEarly("the stream ended without [DONE] or a finish_reason")
        return "".join(parts), finish

    async def stream(self, messages: list[ChatMessage], on_token: Callable[[str], Awaitable[None]]) -> str:
        """The full answer text; tokens go to `on_token` as they arrive."""
        clock = self.clock
        deadline = clock.monotonic() + self.options.timeout_s
        attempt = 0
        while True:
            attempt += 1
            sent = False

            async def forward(text: str) -> None:
                nonlocal sent
                sent = True
                await on_token(text)

            remaining = deadline - clock.monotonic()
            try:
                text, finish = await wait_for(clock, self._stream_once(messages, forward), max(remaining, 0.001))
                if text.strip():
                    if finish in _FINISHED or finish == "done":
                        return text
                    # Shown, but not whole: the person sees it marked, and nothing is remembered.
                    raise AnswerCutOff(TRUNCATED if finish == "length" else FILTERED if finish == "content_filter"
                                       else CUT_OFF)
                failure = GenerationFailed("The language model returned an empty answer; please try again.")
            except GenerationFailed:
                raise
            except TimeoutError:
                failure = GenerationFailed(
                    f"The language model did not answer within {self.options.timeout_s:g} s; please try again."
                )
                if sent:
                    raise AnswerCutOff(f"The answer was cut off: the model did not finish within "
                                       f"{self.options.timeout_s:g} s; please ask again.") from None
            except Exception as exc:  # HTTP statuses and transport errors, worded for people below
                if sent:  # part of the answer is on screen: it is marked as cut off, never retried
                    raise AnswerCutOff(CUT_OFF) from None
                failure = self._explain(exc)
                if not _retryable(exc):
                    raise failure from None
            log.warning("LLM attempt %d failed: %s", attempt, failure)
            policy = Backoff(attempts=self.options.max_attempts, first_s=0.5, cap_s=4.0)
            backoff = policy.delay(attempt)
            if sent or not policy.more_after(attempt) or clock.monotonic() + backoff >= deadline:
                raise failure
            await clock.sleep(backoff)

    async def complete(self, messages: list[ChatMessage], timeout_s: float) -> str:
        """One short non-streamed completion (follow-up rewriting); raises GenerationFailed."""
        async def ask() -> list[dict[str, Any]]:
            async with self._http().post(self._url, json=self._body(messages, False)) as response:
                if response.status >= 400:
                    raise LLMHTTPError(response.status, await response.text(errors="replace"))
                return (await response.json(content_type=None)).get("choices") or []

        try:
            choices = await wait_for(self.clock, ask(), timeout_s)
        except Exception as exc:
            raise self._explain(exc) from None
        return str((choices[0].get("message") or {}).get("content") or "").strip() if choices else ""

    def _explain(self, exc: BaseException) -> GenerationFailed:
        status = getattr(exc, "status_code", None)
        if isinstance(exc, StreamEndedEarly):
            text = "The language model's answer ended before it began; please try again."
        elif isinstance(exc, TimeoutError):
            text = f"The language model did not answer within {self.options.timeout_s:g} s; please try again."
        elif status == 429:
            text = "The language model is busy (rate limited); please try again in a minute."
        elif status is not None and status >= 500:
            text = f"The language model had an error (HTTP {status}); please try again."
        elif status in (401, 403):
            text = "The language model refused the API key; an admin should check llm.api_key."
        elif status is not None:
            text = f"The language model rejected the request (HTTP {status}); an admin should check the llm settings."
        elif isinstance(exc, aiohttp.ClientError | OSError):
            text = f"Could not reach the language model at {self.where}; please try again later."
        else:
            text = "The language model failed to answer; please try again."
        return GenerationFailed(text)


def _retryable(exc: BaseException) -> bool:
    status: Any = getattr(exc, "status_code", None)
    if status is not None:
        return bool(status == 429 or status >= 500)
    return isinstance(exc, aiohttp.ClientError | OSError | StreamEndedEarly)
