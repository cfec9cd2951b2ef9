"""The fault suite runs against the same real local servers as the adapter tests."""

from tests.adapters.conftest import llm  # noqa: F401 (a fixture, re-exported for these tests)
