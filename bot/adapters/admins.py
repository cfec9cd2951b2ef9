"""Who may run admin commands (`/kb delete`, `/kb scope … on|off`) and who may approve new places:
one rule on every platform, each platform supplying only its own fact (workspace admin, Manage Server,
chat administrator, the owner of a private chat)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AdminRule:
    operators: frozenset[str]  # the platform's `admins` list: kbot's own admins

    def operator(self, user: str) -> bool:
        """May approve new places (and is an admin everywhere kbot answers)."""
        return user in self.operators

    async def admin(self, user: str, platform_admin: Callable[[], Awaitable[bool]]) -> bool:
        """kbot's own admins, and whoever the platform says administers this place (asked only when
        needed, and never cached: someone who stops being an admin stops at once)."""
        return self.operator(user) or await platform_admin()
