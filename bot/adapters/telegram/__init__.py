"""Telegram, through python-telegram-bot: long polling or kbot's own webhook receiver."""

# Imports inside functions: the platform's SDK (python-telegram-bot) loads only when Telegram is enabled.

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters.telegram.settings import TelegramSettings as Settings

if TYPE_CHECKING:
    from bot.adapters.context import PlatformContext
    from bot.adapters.telegram.adapter import TelegramAdapter


def create(settings: Settings, secrets: dict[str, str], context: PlatformContext) -> TelegramAdapter:
    from bot.adapters.telegram.adapter import TelegramAdapter

    return TelegramAdapter(settings, secrets["token"], context)


__all__ = ["Settings", "create"]
