"""Skips for tests that need an optional stack the default install leaves out."""

from __future__ import annotations

import importlib.util

import pytest

TORCH_INSTALLED = (importlib.util.find_spec("torch") is not None
                   and importlib.util.find_spec("sentence_transformers") is not None)

# One reason string, so the summary shows one line with the count of tests it skipped.
requires_torch = pytest.mark.skipif(
    not TORCH_INSTALLED, reason="needs torch and sentence-transformers (opt-in: scripts/setup --torch)"
)
