"""Emoji reactions that ask something of kbot, by their names on each platform."""

from __future__ import annotations

from typing import Literal

Reaction = Literal["ask", "save"]

# ❓ on any message: answer it in a thread (once per message). ✅ by an admin on kbot's answer: save the thread.
ASK = frozenset({"❓", "❔", "question", "grey_question"})
SAVE = frozenset({"✅", "✔️", "☑️", "white_check_mark", "heavy_check_mark", "ballot_box_with_check"})


def reaction_kind(name: str | None) -> Reaction | None:
    """`ask`, `save`, or None for any other reaction (which kbot leaves alone, as people do)."""
    name = (name or "").strip().strip(":")
    if name in ASK:
        return "ask"
    if name in SAVE:
        return "save"
    return None
