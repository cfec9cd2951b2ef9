"""Discord, through discord.py: gateway events and application commands in, REST writes out."""

# Imports inside functions: the platform's SDK (discord.py) loads only when Discord is enabled.

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters.discord.settings import DiscordSettings as Settings

if TYPE_CHECKING:
    from bot.adapters.context import PlatformContext
    from bot.adapters.discord.adapter import DiscordAdapter


def create(settings: Settings, secrets: dict[str, str], context: PlatformContext) -> DiscordAdapter:
    from bot.adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(settings, secrets["token"], context)


__all__ = ["Settings", "create"]
