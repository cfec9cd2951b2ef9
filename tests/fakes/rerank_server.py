"""A real local rerank endpoint (127.0.0.1) in the two common shapes: Cohere/Jina/vLLM
(`POST /v2/rerank` {model, query, documents} -> {results: [{index, relevance_score}]}) and Hugging
Face TEI (`POST /rerank` {query, texts} -> [{index, score}]).

A passage scores by how often it contains `favourite` (a word the test picks), so a test knows the
order a reranker must produce, and that it differs from retrieval's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.aio import ThreadedServer


@dataclass
class RerankState:
    favourite: str = "zebra"
    delay_s: float = 0.0  # before answering (a slow endpoint)
    fail_with: int | None = None  # an HTTP status to answer with instead
    garbage: bool = False  # answer 200 with a body of the wrong shape
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)


class FakeRerankServer:
    def __init__(self) -> None:
        self.state = RerankState()
        app = web.Application()
        app.router.add_post("/v2/rerank", self._cohere)
        app.router.add_post("/rerank", self._tei)
        self.server = ThreadedServer(app)

    def __enter__(self) -> FakeRerankServer:
        self.server.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.stop()

    @property
    def cohere_url(self) -> str:
        return f"{self.server.url}/v2/rerank"

    @property
    def tei_url(self) -> str:
        return f"{self.server.url}/rerank"

    def _score(self, text: str) -> float:
        return float(text.lower().count(self.state.favourite))

    async def _read(self, request: web.Request) -> dict[str, Any] | web.Response:
        body = await request.json()
        self.state.requests.append(body)
        self.state.auth_headers.append(request.headers.get("Authorization", ""))
        if self.state.delay_s:
            await asyncio.sleep(self.state.delay_s)
        if self.state.fail_with is not None:
            return web.json_response({"message": "overloaded"}, status=self.state.fail_with)
        if self.state.garbage:
            return web.json_response({"unexpected": True})
        return body

    async def _cohere(self, request: web.Request) -> web.Response:
        body = await self._read(request)
        if isinstance(body, web.Response):
            return body
        results = [{"index": i, "relevance_score": self._score(text)} for i, text in enumerate(body["documents"])]
        results.sort(key=lambda r: r["relevance_score"], reverse=True)
        return web.json_response({"id": "r1", "results": results, "meta": {"billed_units": {"search_units": 1}}})

    async def _tei(self, request: web.Request) -> web.Response:
        body = await self._read(request)
        if isinstance(body, web.Response):
            return body
        scores = [{"index": i, "score": self._score(text)} for i, text in enumerate(body["texts"])]
        return web.json_response(sorted(scores, key=lambda r: r["score"], reverse=True))
