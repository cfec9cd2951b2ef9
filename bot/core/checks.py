"""One line of `kbot doctor`: a check that passed (✓) or failed (✗), and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str  # what was checked and what was found: "telegram: connected as @kbot_bot"
    fix: str = ""  # for a failure: the one thing to do, naming the setting

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.what}" + (f" — {self.fix}" if self.fix and not self.ok else "")
