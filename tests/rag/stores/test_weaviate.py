"""Weaviate: the same Haystack contract suite when a server is configured; a clear line when unreachable."""

from __future__ import annotations

import pytest
from haystack.testing.document_store import DocumentStoreBaseExtendedTests

from bot.cli.main import main
from bot.rag.stores.base import StoreUnavailable
from tests.fakes.http_site import closed_port_url
from tests.support.stores import make_backend, needs_weaviate, on_weaviate


@on_weaviate
@needs_weaviate
class TestWeaviateContract(DocumentStoreBaseExtendedTests):
    @pytest.fixture
    def document_store(self, tmp_path):
        backend = make_backend("weaviate", tmp_path, None)
        yield backend.document_store
        backend.document_store.client.collections.delete(backend.collection)
        backend.close()

    def test_write_documents(self, document_store) -> None:
        from haystack.dataclasses import Document

        assert document_store.write_documents([Document(content="test doc")]) == 1


def test_unreachable_weaviate_is_one_line_naming_the_url() -> None:
    from bot.rag.stores.weaviate import WeaviateBackend

    url = closed_port_url().rstrip("/")
    with pytest.raises(StoreUnavailable) as failure:
        WeaviateBackend(url, timeout_s=2, grpc_port=1)
    message = str(failure.value)
    assert message.startswith(f"cannot reach Weaviate at {url} (") and "\n" not in message


def test_cli_reports_unreachable_weaviate_without_traceback(tmp_path, capsys, monkeypatch) -> None:
    url = closed_port_url().rstrip("/")
    config = tmp_path / "config.yaml"
    config.write_text("store:\n  kind: weaviate\n  weaviate:\n    url: ${TEST_WEAVIATE}\n    timeout_s: 2\n"
                      "embedder:\n  kind: none\n")
    monkeypatch.setenv("TEST_WEAVIATE", url)
    assert main(["--config", str(config), "status"]) == 1
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and f"cannot reach Weaviate at {url}" in err
    assert "Traceback" not in err


def test_weaviate_certainty_is_turned_into_the_cosine_the_thresholds_use() -> None:
    from bot.rag.stores.weaviate import cosine_from_certainty

    assert cosine_from_certainty(1.0) == 1.0 and cosine_from_certainty(0.5) == 0.0
    assert cosine_from_certainty(0.635) == pytest.approx(0.27)  # answer.min_similarity's default
    assert cosine_from_certainty(None) is None


def test_the_schema_is_the_one_existing_collections_were_made_with() -> None:
    """Weaviate's typed properties come from the list an import checks chunks against (chunk_meta.py);
    a change to it must not change the schema of collections already created."""
    from bot.rag.stores.weaviate import META_PROPERTIES

    whole = {"tokenization": "field"}
    created = [
        {"name": "scope", "dataType": ["text"], **whole}, {"name": "source", "dataType": ["text"], **whole},
        {"name": "kind", "dataType": ["text"], **whole}, {"name": "title", "dataType": ["text"]},
        {"name": "heading", "dataType": ["text"]}, {"name": "url", "dataType": ["text"], **whole},
        {"name": "page", "dataType": ["int"]}, {"name": "page_end", "dataType": ["int"]},
        {"name": "chunk_index", "dataType": ["int"]}, {"name": "chunk_count", "dataType": ["int"]},
        {"name": "embedded", "dataType": ["boolean"]}, {"name": "content_hash", "dataType": ["text"], **whole},
        {"name": "chunking", "dataType": ["text"], **whole}, {"name": "uploader", "dataType": ["text"], **whole},
        {"name": "indexed_at", "dataType": ["text"], **whole},
    ]
    assert created == META_PROPERTIES
