"""Slack, through slack-bolt (Socket Mode or signed HTTP events) and slack_sdk's Web API client."""

# Imports inside functions: the platform's SDK (slack-bolt) loads only when Slack is enabled.

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters.slack.settings import SlackSettings as Settings

if TYPE_CHECKING:
    from bot.adapters.context import PlatformContext
    from bot.adapters.slack.adapter import SlackAdapter


def create(settings: Settings, secrets: dict[str, str], context: PlatformContext) -> SlackAdapter:
    from bot.adapters.slack.adapter import SlackAdapter

    return SlackAdapter(settings, secrets["bot_token"], context)


__all__ = ["Settings", "create"]
