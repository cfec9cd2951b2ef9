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
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from haystack.dataclasses import Document

from bot.rag.embedders import META_FIELDS_TO_EMBED, EmbedderFingerprint

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model: longer text is truncated alike
_EMBEDDING_SEPARATOR = "\n"  # how Haystack's sentence-transformers embedder joins meta fields and text


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU BERT uses, in place, with erf to 5e-7 (Abramowitz and Stegun 7.1.26): a
    few passes over the array instead of the dozens a longer polynomial and temporaries take."""
    z = x * np.float32(1 / np.sqrt(2.0))
    sign = np.sign(z)
    np.abs(z, out=z)
    t = z * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    y = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        y += np.float32(coefficient)
        y *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    y *= z  # now 1 - erf(|x| / sqrt 2)
    np.subtract(1.0, y, out=y)
    y *= sign
    y += 1.0
    y *= x
    y *= np.float32(0.5)
    return y


def load_tokenizer(folder: Path, max_tokens: int = MAX_TOKENS) -> Any:
    """The model's WordPiece tokenizer, truncating and padding as sentence-transformers does."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


class Encoder(Protocol):
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class MiniLMEncoder:
    """Token ids to mean-pooled, normalised sentence vectors; weights are read once, float32."""

    def __init__(self, folder: Path, max_tokens: int = MAX_TOKENS) -> None:
        from safetensors.numpy import load_file

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
        for layer in range(self.layers):  # query, key and value as one product: one BLAS call, not three
            at = f"encoder.layer.{layer}.attention.self."
            for part in ("weight", "bias"):
                pieces = [self.w.pop(f"{at}{name}.{part}") for name in ("query", "key", "value")]
                self.w[f"{at}qkv.{part}"] = np.ascontiguousarray(np.concatenate(pieces, axis=-1))
        self.tokenizer = load_tokenizer(folder, max_tokens)
        self.dim = int(self.w["embeddings.word_embeddings.weight"].shape[1])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        """LayerNorm, in place on `x` (every caller passes a fresh array)."""
        x -= x.mean(-1, keepdims=True)
        deviation = np.sqrt(np.einsum("...i,...i->...", x, x)[..., None] / np.float32(x.shape[-1]) + self.eps)
        x /= deviation
        x *= self.w[name + ".weight"]
        x += self.w[name + ".bias"]
        return x

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        out = x @ self.w[name + ".weight"]
        out += self.w[name + ".bias"]
        return out

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
            qkv = self._linear(x, at + "attention.self.qkv").reshape(batch, length, 3, heads, size)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = q @ k
            scores *= scale
            scores += masked
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
            x = self._norm(x + self._linear(attended, at + "attention.output.dense"), at + "attention.output.LayerNorm")
            hidden = _gelu(self._linear(x, at + "intermediate.dense"))
            x = self._norm(x + self._linear(hidden, at + "output.dense"), at + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class LeanLocalEmbedder:
    """The local embedder without torch: loads on first use, embeds in length-sorted batches (so
    little padding is computed), and writes vectors under the same fingerprint as the
    sentence-transformers runtime, so stores written by either stay valid."""

    def __init__(self, folder: str, name: str, dim: int, batch_size: int = 16,
                 make_encoder: Callable[[Path], Encoder] = MiniLMEncoder) -> None:
        self.folder = Path(folder)
        self.fingerprint = EmbedderFingerprint("local", name, dim)
        self.batch_size = batch_size
        self._make_encoder = make_encoder
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._make_encoder(self.folder)

    def warm_up_queries(self) -> None:
        """Loaded, and one question embedded: a runtime's first run allocates its buffers."""
        self._encode(["warm-up"])

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
