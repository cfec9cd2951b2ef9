"""What stops `kbot run` before it serves: a platform that says no (a token refused, an API out of
reach, missing scopes or intents) or a port already taken. Adapters raise it with the setting to
fix; the CLI prints it as one line, with the environment variable that setting reads, and exits 2."""

from __future__ import annotations

import errno

from bot.core.checks import Finding


class CannotStart(Exception):
    """One line for the operator: what refused, and `setting`, the config key that fixes it."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


def refused(found: Finding, setting: str) -> CannotStart:
    """A check `kbot doctor` would show as ✗, raised at start-up: the same words, one line."""
    return CannotStart(f"{found.what}: {found.fix}", setting)


def port_in_use(exc: OSError) -> bool:
    """EADDRINUSE, however the library wrapped it."""
    return exc.errno == errno.EADDRINUSE or "address already in use" in str(exc).lower()
