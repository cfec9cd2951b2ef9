"""Weaviate at scale, through weaviate-haystack; chosen with `store.kind: weaviate`."""

# Imports inside functions: the Weaviate client loads only with store.kind: weaviate.

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from haystack.dataclasses import Document
from haystack.document_stores.types import DuplicatePolicy

from bot.rag.chunk_meta import CHUNK_META
from bot.rag.stores.base import Candidates, StoreUnavailable, candidates_from_documents

# Typed properties for the metadata kbot writes (chunk_meta.py), so filters compare like with like;
# ids, names and times are matched whole, never split into words.
_DATA_TYPES = {str: "text", int: "int", bool: "boolean"}
_WHOLE_VALUES = {"scope", "source", "kind", "url", "content_hash", "chunking", "uploader", "indexed_at"}
META_PROPERTIES = [{"name": name, "dataType": [_DATA_TYPES[kind]], **({"tokenization": "field"} if name in _WHOLE_VALUES
                                                                      else {})}
                   for name, kind in CHUNK_META.items()]
MANIFEST_SUFFIX = "KbotManifest"


class WeaviateBackend:
    kind = "weaviate"

    def __init__(self, url: str, api_key: str | None = None, collection: str = "Knowledge", grpc_port: int = 50051,
                 timeout_s: float = 10.0) -> None:
        from haystack.utils import Secret
        from haystack_integrations.components.retrievers.weaviate import (
            WeaviateBM25Retriever,
            WeaviateEmbeddingRetriever,
            WeaviateHybridRetriever,
        )
        from haystack_integrations.document_stores.weaviate import AuthApiKey, WeaviateDocumentStore
        from haystack_integrations.document_stores.weaviate.document_store import DOCUMENT_COLLECTION_PROPERTIES
        from weaviate.config import AdditionalConfig, Timeout

        self.url = url
        self.collection = collection[:1].upper() + collection[1:]
        auth = AuthApiKey(api_key=Secret.from_token(api_key)) if api_key else None
        self._store = WeaviateDocumentStore(
            url=self.url,
            auth_client_secret=auth,
            grpc_port=grpc_port,
            additional_config=AdditionalConfig(
                timeout=Timeout(init=timeout_s, query=timeout_s, insert=max(timeout_s, 60))
            ),
            collection_settings={
                "class": self.collection,
                "invertedIndexConfig": {"indexNullState": True},
                "properties": DOCUMENT_COLLECTION_PROPERTIES + META_PROPERTIES,
            },
        )
        try:
            self._store.count_documents()
        except Exception as exc:  # the client raises many kinds; the person needs one line
            raise StoreUnavailable(f"cannot reach Weaviate at {self.url} ({_short(exc)})") from None
        self._keyword = WeaviateBM25Retriever(document_store=self._store)
        self._vector = WeaviateEmbeddingRetriever(document_store=self._store)
        self._hybrid = WeaviateHybridRetriever(document_store=self._store)

    @property
    def document_store(self) -> Any:
        return self._store

    def keyword(self, query: str, filters: dict[str, Any], top_k: int) -> list[Document]:
        return self._keyword.run(query=query, filters=filters, top_k=top_k)["documents"]

    def vector(self, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]:
        found = self._vector.run(query_embedding=embedding, filters=filters, top_k=top_k)["documents"]
        return [replace(d, score=cosine_from_certainty(d.score)) for d in found]

    def candidates(self, query: str, embedding: list[float], filters: dict[str, Any], top_k: int) -> Candidates:
        return candidates_from_documents(self, query, embedding, filters, top_k)

    def hybrid(self, query: str, embedding: list[float], filters: dict[str, Any], top_k: int) -> list[Document]:
        return self._hybrid.run(query=query, query_embedding=embedding, filters=filters, top_k=top_k)["documents"]

    def chunk_metadata(self, filters: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
        return [(d.id, d.meta) for d in self._store.filter_documents(filters)]

    def _manifest_collection(self) -> Any:
        from weaviate.classes.config import DataType, Property

        client = self._store.client
        name = self.collection + MANIFEST_SUFFIX
        if not client.collections.exists(name):
            client.collections.create(name, properties=[Property(name="data", data_type=DataType.TEXT)])
        return client.collections.get(name)

    def read_manifest(self) -> dict[str, Any]:
        objects = self._manifest_collection().query.fetch_objects(limit=1).objects
        return json.loads(objects[0].properties["data"]) if objects else {}

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        from weaviate.util import generate_uuid5

        collection = self._manifest_collection()
        uuid = generate_uuid5("kbot-manifest")
        properties = {"data": json.dumps(manifest)}
        if collection.data.exists(uuid):
            collection.data.replace(uuid=uuid, properties=properties)
        else:
            collection.data.insert(properties=properties, uuid=uuid)

    def rebuild(self, documents: list[Document], embedding_dim: int | None) -> None:
        """Weaviate re-embeds in place: vectors are overwritten object by object."""
        for start in range(0, len(documents), 500):
            self._store.write_documents(documents[start : start + 500], policy=DuplicatePolicy.OVERWRITE)

    def optimize(self) -> None:
        """Weaviate indexes on write."""

    def unindexed_rows(self) -> int:
        return 0  # indexed on write

    def warm_up(self) -> None:
        """Weaviate keeps its indexes on the server: nothing to load here."""

    def purge(self) -> None:
        """Weaviate removes deleted objects itself (tombstones are cleaned up by the server)."""

    def describe(self) -> str:
        return f"weaviate at {self.url} (collection {self.collection})"

    def close(self) -> None:
        self._store.close()


def cosine_from_certainty(certainty: float | None) -> float | None:
    """Weaviate scores vector hits by certainty, (1 + cosine) / 2 on its default cosine distance; kbot's
    thresholds (answer.min_similarity, analytics.weak_similarity) are cosine similarities, as LanceDB's."""
    return None if certainty is None else 2.0 * float(certainty) - 1.0


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:160] + "…") if len(text) > 160 else (text or exc.__class__.__name__)
