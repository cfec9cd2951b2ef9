"""Rerankers: a second opinion on the order of the retrieved passages, from a cross-encoder on this
machine or any rerank endpoint. A reranker that fails leaves the order as it was, never the answer."""

# Imports inside functions: sentence-transformers (torch) loads only for a local cross-encoder.

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, ClassVar, Literal

import httpx
from haystack import component, default_to_dict
from haystack.dataclasses import Document

log = logging.getLogger("kbot.rerank")

Style = Literal["cohere", "tei"]


def reordered(documents: list[Document], scores: list[float]) -> list[Document]:
    """Documents in descending score order, each recording its score in `meta["_why"]`."""
    ranked = sorted(zip(documents, scores, strict=True), key=lambda pair: pair[1], reverse=True)
    return [replace(d, meta={**d.meta, "_why": {**d.meta.get("_why", {}), "rerank_score": round(float(s), 4)}})
            for d, s in ranked]


@component
class HttpReranker:
    """The common rerank shape: query and passages in, a score per passage out.

    `cohere` sends `{"model", "query", "documents"}` and reads `results[].index/relevance_score`
    (Cohere, Jina, vLLM's /rerank); `tei` sends `{"query", "texts"}` and reads `[{index, score}]`
    (Hugging Face Text Embeddings Inference).
    """

    RESOURCES: ClassVar[tuple[str, ...]] = ("rerank_api_key",)

    def __init__(self, url: str, model: str | None = None, style: Style = "cohere", timeout_s: float = 5.0,
                 rerank_api_key: str | None = None) -> None:
        self.url = url
        self.model = model
        self.style = style
        self.timeout_s = timeout_s
        self._api_key = rerank_api_key

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, url=self.url, model=self.model, style=self.style, timeout_s=self.timeout_s)

    def _scores(self, query: str, texts: list[str]) -> list[float]:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        if self.style == "tei":
            body: dict[str, Any] = {"query": query, "texts": texts}
        else:
            body = {"query": query, "documents": texts, **({"model": self.model} if self.model else {})}
        response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout_s)
        response.raise_for_status()
        data = response.json()
        results = data if self.style == "tei" else data["results"]
        scores = [0.0] * len(texts)
        for item in results:
            scores[int(item["index"])] = float(item["score" if self.style == "tei" else "relevance_score"])
        return scores

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document], rerank: bool = True) -> dict[str, list[Document]]:
        if not rerank or len(documents) < 2:
            return {"documents": documents}
        try:
            scores = self._scores(query, [d.content or "" for d in documents])
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("reranker at %s failed (%s); keeping the retrieval order", self.url, exc.__class__.__name__)
            return {"documents": documents}
        return {"documents": reordered(documents, scores)}


@component
class LocalReranker:
    """A cross-encoder (sentence-transformers) loaded from a folder on this machine; nothing is downloaded.
    A model that cannot load or run leaves the retrieval order as it was (and says so once in the log)."""

    def __init__(self, model_path: str, batch_size: int = 16) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self._model: Any = None
        self._broken: str | None = None

    def warm_up(self) -> None:
        if self._model is not None or self._broken is not None:
            return
        try:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(self.model_path, local_files_only=True, device="cpu")
        except Exception as exc:  # a missing extra, a folder that is not a model
            self._broken = exc.__class__.__name__
            log.warning("local reranker at %s could not load (%s); answers keep the retrieval order",
                        self.model_path, self._broken)

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document], rerank: bool = True) -> dict[str, list[Document]]:
        if not rerank or len(documents) < 2:
            return {"documents": documents}
        self.warm_up()
        if self._model is None:
            return {"documents": documents}
        try:
            scores = self._model.predict([(query, d.content or "") for d in documents], batch_size=self.batch_size,
                                         show_progress_bar=False)
        except Exception as exc:  # a broken model must not break the answer
            log.warning("local reranker failed (%s); keeping the retrieval order", exc.__class__.__name__)
            return {"documents": documents}
        return {"documents": reordered(documents, [float(s) for s in scores])}
