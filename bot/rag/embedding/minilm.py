"""all-MiniLM-L6-v2 in NumPy: the same vectors as sentence-transformers (cosine 1.0 to float32
precision), from the packaged safetensors weights and `tokenizers`, without importing torch.

A BERT encoder of six layers is a few matrix products per layer; NumPy hands those to its BLAS,
which uses AVX2 (or whatever the CPU has) on every core. Starting it takes a fraction of a second
where torch and sentence-transformers take several, which is what a person waits for on
`kbot search` and `kbot ask`.
"""

# Imports inside functions: safetensors and tokenizers load with the model, not with the module.

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model: longer text is truncated alike


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
        out: np.ndarray = x @ self.w[name + ".weight"]
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
        unit: np.ndarray = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return unit


