"""The `discord:` section of config.yaml."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.settings_types import IdList, PlatformSettings


class DiscordSettings(PlatformSettings):
    token: SecretStr | None = None  # needs the Message Content intent (see README)
    base_url: str | None = None  # REST base (e.g. a local server); the gateway URL is asked from it
    thread_per_question: bool = False  # open a thread under each question asked in a channel
    allowed_servers: IdList = Field(default_factory=list)  # guild ids answered without approval
    allowed_users: IdList = Field(default_factory=list)  # user ids whose DMs are answered without approval

    def required_secrets(self) -> dict[str, str]:
        return {"token": "discord is enabled"}

    def allowed_places(self) -> frozenset[str]:
        """The listed servers, and the DMs of the listed users and of kbot's admins."""
        return frozenset(self.allowed_servers) | {f"dm:{user}" for user in [*self.allowed_users, *self.admins]}
