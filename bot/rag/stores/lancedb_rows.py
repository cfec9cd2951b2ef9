"""Haystack documents as rows of the LanceDB table, and back: the columns, and which metadata fields
are promoted to columns of their own (filtered on by every query)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from haystack.dataclasses import ByteStream, Document, SparseEmbedding

PROMOTED = {"id": "id", "meta.scope": "scope", "meta.source": "source"}
ROW_COLUMNS = ["id", "content", "meta", "blob", "blob_mime", "blob_meta", "sparse", "has_embedding"]


def arrow_schema(embedding_dim: int | None) -> pa.Schema:
    fields = [
        pa.field("id", pa.string(), nullable=False),
        pa.field("content", pa.string()),
        pa.field("meta", pa.string()),
        pa.field("scope", pa.string()),
        pa.field("source", pa.string()),
        pa.field("blob", pa.binary()),
        pa.field("blob_mime", pa.string()),
        pa.field("blob_meta", pa.string()),
        pa.field("sparse", pa.string()),
        pa.field("has_embedding", pa.bool_()),
    ]
    if embedding_dim:
        fields.append(pa.field("embedding", pa.list_(pa.float32(), embedding_dim)))
    return pa.schema(fields)


def columns(embedding_dim: int | None, with_embedding: bool) -> list[str]:
    return ROW_COLUMNS + (["embedding"] if with_embedding and embedding_dim else [])


def to_row(doc: Document, embedding_dim: int | None) -> dict[str, Any]:
    meta = doc.meta or {}
    row: dict[str, Any] = {
        "id": doc.id,
        "content": doc.content,
        "meta": json.dumps(meta, default=str),
        "scope": meta.get("scope") if isinstance(meta.get("scope"), str) else None,
        "source": meta.get("source") if isinstance(meta.get("source"), str) else None,
        "blob": doc.blob.data if doc.blob else None,
        "blob_mime": doc.blob.mime_type if doc.blob else None,
        "blob_meta": json.dumps(doc.blob.meta) if doc.blob else None,
        "sparse": json.dumps(doc.sparse_embedding.to_dict()) if doc.sparse_embedding else None,
        "has_embedding": doc.embedding is not None,
    }
    if embedding_dim:
        if doc.embedding is not None and len(doc.embedding) != embedding_dim:
            raise ValueError(
                f"document {doc.id} has a {len(doc.embedding)}-dimension embedding; "
                f"this store holds {embedding_dim}-dimension vectors"
            )
        row["embedding"] = doc.embedding if doc.embedding is not None else [0.0] * embedding_dim
    elif doc.embedding is not None:
        raise ValueError("this store keeps no vectors (embedder: none) but a document has an embedding")
    return row


def to_document(row: dict[str, Any], score: float | None = None) -> Document:
    blob = None
    if row.get("blob") is not None:
        blob = ByteStream(
            data=row["blob"], mime_type=row.get("blob_mime"), meta=json.loads(row.get("blob_meta") or "{}")
        )
    embedding = row.get("embedding") if row.get("has_embedding") else None
    sparse = SparseEmbedding.from_dict(json.loads(row["sparse"])) if row.get("sparse") else None
    return Document(
        id=row["id"],
        content=row.get("content"),
        meta=json.loads(row.get("meta") or "{}"),
        blob=blob,
        embedding=list(embedding) if embedding is not None else None,
        sparse_embedding=sparse,
        score=score,
    )


def batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
