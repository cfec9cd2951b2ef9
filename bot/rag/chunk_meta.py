"""The metadata kbot stores with a chunk, and its types: what every store keeps and what an imported
chunk may carry. Weaviate's typed properties are these (stores/weaviate.py), so a chunk whose `page` is
a word, or one with fields kbot never writes, would fail or widen the schema halfway through an import."""

from __future__ import annotations

from typing import Any

CHUNK_META: dict[str, type] = {
    "scope": str, "source": str, "kind": str, "title": str, "heading": str, "url": str,
    "page": int, "page_end": int, "chunk_index": int, "chunk_count": int, "embedded": bool,
    "content_hash": str, "chunking": str, "uploader": str, "indexed_at": str,
}
REQUIRED = ("scope", "source")
MAX_INT = 2**31 - 1
# The longest each field is when kbot writes it (an imported chunk is held to the same): a passage of
# the most words `knowledge.chunk_words` allows, a source as the jobs table keeps it, a page address.
MAX_CONTENT_CHARS = 100_000
MAX_CHARS: dict[str, int] = {"source": 1024, "url": 2048, "title": 1000, "heading": 1000}
MAX_OTHER_CHARS = 200


def content_problem(content: str) -> str | None:
    if len(content) > MAX_CONTENT_CHARS:
        return f"its content is {len(content):,} characters; a passage kbot stores has at most {MAX_CONTENT_CHARS:,}"
    return None


def meta_problem(meta: dict[str, Any]) -> str | None:
    """Why this metadata cannot be stored (the first field that is wrong), or None."""
    for name in REQUIRED:
        if not isinstance(meta.get(name), str) or not meta[name].strip():
            return f'"{name}" must be a non-empty string'
    for name, value in meta.items():
        expected = CHUNK_META.get(name)
        if expected is None:
            return f'"{name}" is not a field kbot stores with a chunk'
        if value is None:
            continue
        if expected is int and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT):
            return f'"{name}" must be a whole number from 0 to {MAX_INT}'
        if not isinstance(value, expected):
            return f'"{name}" must be {"true or false" if expected is bool else "a string"}'
        longest = MAX_CHARS.get(name, MAX_OTHER_CHARS)
        if isinstance(value, str) and len(value) > longest:
            return f'"{name}" is {len(value):,} characters; kbot keeps at most {longest:,}'
    return None
