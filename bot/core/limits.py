"""The refusal for a question longer than kbot reads: the gate checks it before anything is spent,
and the conversation again for callers that answer without a gate (`kbot ask`)."""

from __future__ import annotations


def too_long(text: str, max_chars: int) -> str | None:
    """The refusal for an over-long question, or None."""
    if len(text) <= max_chars:
        return None
    return (f"That message is {len(text):,} characters; kbot answers questions of up to {max_chars:,}. "
            "Please ask a shorter question (a file can be added with /kb upload).")
