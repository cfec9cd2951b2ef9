"""The indexing flow as a Haystack pipeline: convert → clean → split → write (keyword first) → embed →
write (vectors).

Its contract, which a customised pipeline (`knowledge.pipeline: my-indexing.yaml`) must keep: it
takes the flat inputs `data` and `kind` (and `url`, `content_hash`, `source`, `scope`, `uploader`,
`stale_ids`, `on_progress` where its components want them); some component outputs `chunks` (how many
were written). `pages`, `warnings`, `embedding_error`, `reused` (chunks that kept the previous
version's vector) and `failed` (why the document could not be read; a component may raise ParseError
instead) are reported when present.
"""

from __future__ import annotations

from typing import Any

from haystack import Pipeline

from bot.rag.parsing import Limits
from bot.rag.pipeline.contract import check_contract
from bot.rag.pipeline.converter import DocumentConverter, TextCleaner
from bot.rag.pipeline.splitter import ChunkSplitter
from bot.rag.pipeline.writers import ChunkEmbedder, EmbeddedWriter, KeywordFirstWriter
from bot.rag.splitting import Chunking

REQUIRED_INPUTS = {"data": "the document's bytes", "kind": "pdf, docx, markdown, text or html"}
OUTPUTS = ("chunks", "pages", "warnings", "embedding_error", "reused", "failed")


def default_indexing_pipeline(knowledge_base: Any, chunking: Chunking, limits: Limits) -> Pipeline:
    pipeline = Pipeline(metadata={"kbot": "indexing"})
    pipeline.add_component("converter", DocumentConverter(limits))
    pipeline.add_component("cleaner", TextCleaner())
    pipeline.add_component("splitter", ChunkSplitter(chunking))
    pipeline.add_component("keyword_writer", KeywordFirstWriter(knowledge_base))
    pipeline.add_component("embedder", ChunkEmbedder(knowledge_base))
    pipeline.add_component("vector_writer", EmbeddedWriter(knowledge_base))
    pipeline.connect("converter.parsed", "cleaner.parsed")
    pipeline.connect("cleaner.parsed", "splitter.parsed")
    pipeline.connect("splitter.documents", "keyword_writer.documents")
    pipeline.connect("keyword_writer.documents", "embedder.documents")
    pipeline.connect("embedder.documents", "vector_writer.documents")
    return pipeline


def check_indexing_pipeline(pipeline: Pipeline) -> dict[str, str]:
    """The components producing `chunks` (required) and the optional outputs; PipelineInvalid otherwise."""
    return check_contract(pipeline, REQUIRED_INPUTS, OUTPUTS, "chunks", "bot.rag.pipeline.writers.KeywordFirstWriter")
