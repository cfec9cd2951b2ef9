"""What every config section is built from, and what every platform's section has (a platform
package defines its own section on this, without importing the rest of the configuration)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class Section(BaseModel):
    """A config section: unknown keys are errors (a misspelt key must not be silently ignored), and
    nothing changes once it is read (an override is a copy: `model_copy(update=...)`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_ids(value: Any) -> Any:
    """Platform ids may be written as numbers (Telegram chat ids are); they are compared as text."""
    if isinstance(value, list):
        return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


IdList = Annotated[list[str], BeforeValidator(_as_ids)]
Access = Literal["pairing", "open", "allowlist"]


class PlatformSettings(Section):
    """The keys every platform has: on or off, kbot's own admins there, and who may use kbot."""

    enabled: bool = False
    admins: IdList = Field(default_factory=list)  # user ids: kbot's own admins, who approve new places
    # pairing: places not listed or approved get a code an admin approves; allowlist: they are
    # ignored; open: anyone who can reach the bot is answered.
    access: Access = "pairing"

    def required_secrets(self) -> dict[str, str]:
        """Secret keys this section needs when enabled, each with why (for the one-line error)."""
        return {}

    def allowed_places(self) -> frozenset[str]:
        """Workspaces (a ThreadKey's `workspace`) answered without an approval."""
        return frozenset()
