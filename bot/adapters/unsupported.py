"""The reply to what kbot cannot read (a photo, voice note, sticker, video or file sent where it would
answer): say what it reads and how to add documents, so nothing sent to it goes unanswered."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.rag.parsing import SUPPORTED_SUFFIXES

READABLE = "PDF, Word (.docx), HTML, Markdown and text files, and photos or scans of pages (read with OCR)"


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def unsupported_note(media: Sequence[str], files: Sequence[str], upload_hint: str, *, answering: bool) -> str:
    """`media`: what came that is not text ("a photo", "a voice note", ...); `files`: attached file names;
    `upload_hint`: how this platform adds a document ("send it with the caption /kb upload");
    `answering`: the message also had words, which kbot answers below."""
    lines = []
    if media:
        lines.append(f"I can't take {_listed(list(media))} as a question: I answer questions written as text.")
    readable = [name for name in files if Path(name).suffix.lower() in SUPPORTED_SUFFIXES]
    unreadable = [name for name in files if name not in readable]
    if unreadable:
        lines.append(f"I can't read {_listed(unreadable)}: I read {READABLE} ({', '.join(SUPPORTED_SUFFIXES)}).")
    if readable:
        lines.append(f"To add {_listed(readable)} to the knowledge base, {upload_hint}.")
    elif unreadable or media:
        lines.append(f"To add a document to the knowledge base (a photo of a page works too), {upload_hint}.")
    lines.append("I'll answer your words below." if answering
                 else "Ask me in words and I'll answer from the documents.")
    return " ".join(lines)
