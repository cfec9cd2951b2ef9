"""What every platform adapter is given besides its own settings and secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from bot.service import QuestionService


@dataclass(frozen=True)
class PlatformContext:
    service: QuestionService  # where every verified question, command and vote goes
    max_file_bytes: int = 25_000_000  # uploads over this are refused before they are downloaded
    # Where an upload in a public channel lands: the whole workspace (server), or that channel only.
    public_uploads: Literal["workspace", "channel"] = "workspace"
    clock: Clock = SYSTEM_CLOCK  # the platform's pacing (edit budgets, retries, probes)
