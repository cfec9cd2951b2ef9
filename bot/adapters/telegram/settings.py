"""The `telegram:` section of config.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from bot.config.base import IdList, PlatformSettings


class TelegramSettings(PlatformSettings):
    token: SecretStr | None = None
    base_url: str | None = None  # Bot API base, e.g. a local Bot API server
    base_file_url: str | None = None  # file download base for the same
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # webhook mode: the public URL Telegram posts to
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(8443, ge=0, le=65535)
    # webhook mode: Telegram repeats it on every request; unset, kbot derives one from the token
    webhook_secret: SecretStr | None = None
    allowed_chats: IdList = Field(default_factory=list)  # group ids (-100…) and private chats (user ids)

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramSettings:
        if self.enabled and self.mode == "webhook" and not self.webhook_url:
            raise ValueError("telegram.mode is webhook: set telegram.webhook_url")
        return self

    def required_secrets(self) -> dict[str, str]:
        return {"token": "telegram is enabled"}

    def allowed_places(self) -> frozenset[str]:
        """The listed chats, and kbot's admins' private chats (a private chat's id is its user's)."""
        return frozenset([*self.allowed_chats, *self.admins])
