"""The platforms kbot knows. Adding one is a package under `bot/adapters/` and one line here.

A platform package provides `Settings` (its config section, a `PlatformSettings`) and
`create(settings, secrets, context) -> Adapter`; importing the package must not import its SDK
(the configuration imports every `Settings` at start-up, whichever platforms are enabled).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, cast

from bot.config.base import PlatformSettings

if TYPE_CHECKING:
    from bot.adapters.context import PlatformContext
    from bot.core.messages import Adapter

PLATFORMS: dict[str, str] = {
    "slack": "bot.adapters.slack",
    "discord": "bot.adapters.discord",
    "telegram": "bot.adapters.telegram",
}

Create = Callable[[PlatformSettings, dict[str, str], "PlatformContext"], "Adapter"]


def _package(name: str) -> ModuleType:
    return importlib.import_module(PLATFORMS[name])


def settings_models() -> dict[str, type[PlatformSettings]]:
    """Each platform's config section, by the key it has in config.yaml."""
    return {name: cast(type[PlatformSettings], _package(name).Settings) for name in PLATFORMS}


def factory(name: str) -> Create:
    return cast(Create, _package(name).create)
