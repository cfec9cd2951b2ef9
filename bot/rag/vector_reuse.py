"""Vectors carried over from a document's previous version, so an edit costs only what it changed.

A chunk's vector depends only on the text the embedder reads: the metadata fields it embeds (title,
heading) and the content. A new chunk whose text matches a chunk of the same source and scope that
was already embedded takes that vector instead of being embedded again; duplicates inside one
document are embedded once. The store refuses vectors from another embedder before any of these
are written, so a carried-over vector is always the configured embedder's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from haystack.dataclasses import Document

from bot.rag.embedding.contract import META_FIELDS_TO_EMBED

EmbeddedText = tuple[str | None, ...]


def embedded_text(document: Document) -> EmbeddedText:
    """What the embedder reads for this chunk, as a key (None for a missing field, never "None")."""
    fields = tuple(None if document.meta.get(name) is None else str(document.meta[name])
                   for name in META_FIELDS_TO_EMBED)
    return (*fields, document.content or "")


def previous_vectors(documents: Iterable[Document]) -> dict[EmbeddedText, list[float]]:
    """The vectors of the chunks that were fully embedded; a chunk left at `embedded: False` by an
    interrupted run has none worth keeping."""
    vectors: dict[EmbeddedText, list[float]] = {}
    for document in documents:
        if document.meta.get("embedded", True) is False or not document.embedding:
            continue
        vectors.setdefault(embedded_text(document), list(document.embedding))
    return vectors


def carry_over(documents: list[Document], vectors: dict[EmbeddedText, list[float]],
               dim: int | None) -> tuple[list[Document], list[Document]]:
    """(chunks given a previous vector, chunks still to embed), each in document order. A vector of
    another length than the store's (`dim`) is never carried over."""
    carried: list[Document] = []
    fresh: list[Document] = []
    for document in documents:
        vector = vectors.get(embedded_text(document))
        if vector is not None and (dim is None or len(vector) == dim):
            carried.append(replace(document, embedding=vector))
        else:
            fresh.append(document)
    return carried, fresh


def unique_texts(documents: list[Document]) -> tuple[list[Document], list[int]]:
    """(the first chunk of each distinct embedded text, for each chunk the position of its text in
    that list): duplicates are embedded once and share the vector."""
    first: dict[EmbeddedText, int] = {}
    unique: list[Document] = []
    positions: list[int] = []
    for document in documents:
        key = embedded_text(document)
        if key not in first:
            first[key] = len(unique)
            unique.append(document)
        positions.append(first[key])
    return unique, positions
