"""What every platform adapter is given besides its own settings and secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.clock import SYSTEM_CLOCK, Clock
from bot.core.service import ServicePort


@dataclass(frozen=True)
class PlatformContext:
    service: ServicePort  # where every verified question, command and vote goes
    max_file_bytes: int = 25_000_000  # uploads over this are refused before they are downloaded
    # Where an upload in a public channel lands: the whole workspace (server), or that channel only.
    public_uploads: Literal["workspace", "channel"] = "workspace"
    clock: Clock = SYSTEM_CLOCK  # the platform's pacing (edit budgets, retries, probes)
