"""all-MiniLM-L6-v2 in NumPy: the same vectors as sentence-transformers (cosine 1.0 to float32
precision), from the packaged safetensors weights and `tokenizers`, without importing torch.

A BERT encoder of six layers is a few matrix products per layer; NumPy hands those to its BLAS,
which uses AVX2 (or whatever the CPU has) on every core. Starting it takes a fraction of a second
where torch and sentence-transformers take several, which is what a person waits for on
`kbot search` and `kbot ask`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from haystack.dataclasses import Document

from bot.rag.embedders import META_FIELDS_TO_EMBED, EmbedderFingerprint

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model: longer text is truncated alike
_EMBEDDING_SEPARATOR = "\n"  # how Haystack's sentence-transformers embedder joins meta fields and text


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.2e-7 (Numerical Recipes' erfc), for the exact GELU BERT uses."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    tail = t * np.exp(-z * z + poly)
    return np.where(x >= 0, 1.0 - tail, tail - 1.0).astype(x.dtype)


class MiniLMEncoder:
    """Token ids to mean-pooled, normalised sentence vectors; weights are read once, float32."""

    def __init__(self, folder: Path, max_tokens: int = MAX_TOKENS) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        if config.get("model_type") != "bert":
            raise ValueError(f"{folder} is not a BERT model; embedder.runtime: numpy reads only MiniLM-style BERT")
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(folder / "model.safetensors"))
        prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."
        self.w: dict[str, np.ndarray] = {}
        for name, value in weights.items():
            key = name.removeprefix(prefix)
            value = value.astype(np.float32)
            # Linear layers as (in, out), so a product is x @ w: contiguous for the BLAS.
            linear = value.ndim == 2 and not key.startswith("embeddings")
            self.w[key] = np.ascontiguousarray(value.T) if linear else value
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.dim = int(self.w["embeddings.word_embeddings.weight"].shape[1])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(-1, keepdims=True)
        return centred / np.sqrt(variance + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"] + self.w[name + ".bias"]

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        batch, length = ids.shape
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = self._norm(x, "embeddings.LayerNorm")
        heads, size = self.heads, x.shape[-1] // self.heads
        masked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        for layer in range(self.layers):
            at = f"encoder.layer.{layer}."
            q = self._linear(x, at + "attention.self.query").reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
            k = self._linear(x, at + "attention.self.key").reshape(batch, length, heads, size).transpose(0, 2, 3, 1)
            v = self._linear(x, at + "attention.self.value").reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + masked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
            x = self._norm(x + self._linear(attended, at + "attention.output.dense"), at + "attention.output.LayerNorm")
            hidden = self._linear(x, at + "intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + _erf(hidden * np.float32(1 / np.sqrt(2.0))))
            x = self._norm(x + self._linear(hidden, at + "output.dense"), at + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class LeanLocalEmbedder:
    """The local embedder without torch: loads on first use, embeds in length-sorted batches (so
    little padding is computed), and writes vectors under the same fingerprint as the
    sentence-transformers runtime, so stores written by either stay valid."""

    def __init__(self, folder: str, name: str, dim: int, batch_size: int = 16) -> None:
        self.folder = Path(folder)
        self.fingerprint = EmbedderFingerprint("local", name, dim)
        self.batch_size = batch_size
        self._encoder: MiniLMEncoder | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._encoder is None:
                self._encoder = MiniLMEncoder(self.folder)

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        assert self._encoder is not None
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), self._encoder.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            vectors[chunk] = self._encoder.encode([texts[i] for i in chunk])
        return vectors

    def embed_documents(self, documents: list[Document]) -> list[Document]:
        if not documents:
            return []
        texts = [_text_to_embed(d) for d in documents]
        vectors = self._encode(texts)
        return [_with_embedding(d, vector) for d, vector in zip(documents, vectors, strict=True)]

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0].tolist()


def _text_to_embed(document: Document) -> str:
    meta = [str(document.meta[k]) for k in META_FIELDS_TO_EMBED if document.meta.get(k) is not None]
    return _EMBEDDING_SEPARATOR.join([*meta, document.content or ""])


def _with_embedding(document: Document, vector: Any) -> Document:
    return replace(document, embedding=vector.tolist())
