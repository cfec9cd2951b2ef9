"""How far back a report looks (`/kb gaps [days]`, `kbot gaps --days N`); import-light, since the CLI's
argument parser needs it before anything else is loaded."""

from __future__ import annotations

MAX_DAYS = 366


def parse_days(args: str, default: int, command: str) -> tuple[int | None, str | None]:
    """`[days]` from a command's arguments: (days, None), or (None, what to type instead)."""
    text = args.strip().lower().removesuffix("d").removesuffix(" days").strip()
    if not text:
        return default, None
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        return None, f"Give a number of days from 1 to {MAX_DAYS}, e.g. {command} {default}."
    return int(text), None
