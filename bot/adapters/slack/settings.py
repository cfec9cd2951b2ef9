"""The `slack:` section of config.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bot.config.base import IdList, PlatformSettings


class SlackSettings(PlatformSettings):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None  # Socket Mode (default, no public URL needed)
    signing_secret: SecretStr | None = None  # HTTP Events API mode
    mode: Literal["socket", "http"] = "socket"
    base_url: str | None = None  # Web API base, e.g. GovSlack or a local server
    http_host: str = "0.0.0.0"  # http mode: where Slack's Events API requests are received
    http_port: int = Field(3000, ge=0, le=65535)
    http_path: str = "/slack/events"
    native_streaming: bool = True  # chat.startStream where Slack offers it, else chat.update edits
    edits_per_minute: int = Field(45, ge=1)  # chat.update budget per workspace (Tier 3 is ~50/min)
    # Answered without approval besides the workspace that installed the app (it is trusted at start-up).
    allowed_workspaces: IdList = Field(default_factory=list)

    def required_secrets(self) -> dict[str, str]:
        needed = {"bot_token": "slack is enabled"}
        if self.mode == "socket":
            needed["app_token"] = "slack.mode is socket"
        else:
            needed["signing_secret"] = "slack.mode is http"
        return needed

    def allowed_places(self) -> frozenset[str]:
        return frozenset(self.allowed_workspaces)
