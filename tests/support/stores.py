"""Backends the shared retrieval and contract tests run against: LanceDB always, Weaviate when configured."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from bot.rag.stores.base import StoreBackend
from bot.rag.stores.lancedb_backend import LanceDBBackend

WEAVIATE_URL = os.environ.get("WEAVIATE_URL")
needs_weaviate = pytest.mark.skipif(
    not WEAVIATE_URL, reason="WEAVIATE_URL is not set: no Weaviate server to run the shared store tests against"
)
on_weaviate = pytest.mark.weaviate  # scripts/test-weaviate runs exactly these (`pytest -m weaviate`)
BACKENDS = ["lancedb", pytest.param("weaviate", marks=[on_weaviate, needs_weaviate])]


def make_backend(kind: str, tmp_path: Path, dim: int | None) -> StoreBackend:
    if kind == "lancedb":
        return LanceDBBackend(tmp_path / "store", dim)
    from bot.rag.stores.weaviate import WeaviateBackend

    return WeaviateBackend(WEAVIATE_URL or "", api_key=os.environ.get("WEAVIATE_API_KEY") or None,
                           collection=f"KbotTest{uuid.uuid4().hex[:8]}",
                           grpc_port=int(os.environ.get("WEAVIATE_GRPC_PORT", "50051")))
