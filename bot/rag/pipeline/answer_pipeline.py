"""The answer flow as a Haystack pipeline: rewrite the follow-up, retrieve within scopes, rerank (when
configured), gate on relevance, build the prompt, generate (streamed), keep the cited sources.

Its contract, which a customised pipeline (`answer.pipeline: my-answer.yaml`) must keep: it takes the
flat inputs `question`, `history`, `scopes` and `streaming_callback` (and the preset's knobs), every
retrieval takes `scopes`, and one component produces `answer` (an `Answer`). A `query` output (the
search query) and a `retrieval_s` output are remembered and measured when present.
"""

# Imports inside functions: a reranker's libraries load only when one is configured.

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from haystack import Pipeline

from bot.rag.pipeline.answer_generators import ExtractiveAnswerer, StreamingChatGenerator
from bot.rag.pipeline.citation_filter import CitationFilter
from bot.rag.pipeline.contract import PipelineInvalid, check_contract
from bot.rag.pipeline.prompt_builder import AnswerPromptBuilder
from bot.rag.pipeline.retriever import RelevanceGate, ScopedRetriever
from bot.rag.pipeline.rewriter import FollowUpRewriter

REQUIRED_INPUTS = {"question": "what was asked",
                   "scopes": "every answer pipeline must take it: retrieval is scoped to the asker's scopes"}
OUTPUTS = ("answer", "query", "retrieval_s", "best_similarity")


@dataclass(frozen=True)
class RerankerOptions:
    kind: str = "none"  # none | local | http
    url: str | None = None
    model: str | None = None
    model_path: str | None = None
    style: str = "cohere"
    timeout_s: float = 5.0


@dataclass(frozen=True)
class AnswerOptions:
    mode: str | None = None
    top_k: int = 5
    min_similarity: float = 0.27
    keyword_agreement: bool = True  # below min_similarity, agreeing rankings still count as relevant
    extractive: bool = False  # no model: quote the passages
    reranker: RerankerOptions = field(default_factory=RerankerOptions)


def build_reranker(options: RerankerOptions, api_key: str | None) -> Any:
    from bot.rag.pipeline.rerankers import HttpReranker, LocalReranker

    if options.kind == "http":
        return HttpReranker(options.url or "", options.model, options.style, options.timeout_s, api_key)  # type: ignore[arg-type]  # style: validated by RerankerOptions
    return LocalReranker(options.model_path or "")


def default_answer_pipeline(options: AnswerOptions, knowledge_base: Any, llm: Any,
                            rerank_api_key: str | None = None) -> Pipeline:
    pipeline = Pipeline(metadata={"kbot": "answer"})
    pipeline.add_component("rewriter", FollowUpRewriter(llm))
    pipeline.add_component("retriever", ScopedRetriever(knowledge_base, options.mode, options.top_k))
    pipeline.add_component("gate", RelevanceGate(options.min_similarity, options.top_k, options.keyword_agreement))
    pipeline.add_component("prompt", AnswerPromptBuilder())
    pipeline.add_component("generator", ExtractiveAnswerer() if options.extractive else StreamingChatGenerator(llm))
    pipeline.add_component("citations", CitationFilter())
    pipeline.connect("rewriter.query", "retriever.query")
    if options.reranker.kind != "none":
        pipeline.add_component("reranker", build_reranker(options.reranker, rerank_api_key))
        pipeline.connect("rewriter.query", "reranker.query")
        pipeline.connect("retriever.documents", "reranker.documents")
        pipeline.connect("reranker.documents", "gate.documents")
    else:
        pipeline.connect("retriever.documents", "gate.documents")
    pipeline.connect("retriever.best_similarity", "gate.best_similarity")
    pipeline.connect("retriever.agreement", "gate.agreement")
    pipeline.connect("gate.documents", "prompt.documents")
    pipeline.connect("gate.relevant", "generator.relevant")
    pipeline.connect("gate.relevant", "citations.relevant")
    if options.extractive:
        pipeline.connect("prompt.sources", "generator.sources")
    else:
        pipeline.connect("prompt.messages", "generator.messages")
    pipeline.connect("generator.text", "citations.text")
    pipeline.connect("prompt.sources", "citations.sources")
    return pipeline


def check_answer_pipeline(pipeline: Pipeline) -> dict[str, str]:
    """The components producing `answer` (required), `query`, `retrieval_s` and `best_similarity`;
    PipelineInvalid otherwise."""
    return check_contract(pipeline, REQUIRED_INPUTS, OUTPUTS, "answer",
                          "bot.rag.pipeline.citation_filter.CitationFilter")


__all__ = ["AnswerOptions", "PipelineInvalid", "RerankerOptions", "check_answer_pipeline", "default_answer_pipeline"]
