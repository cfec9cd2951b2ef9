"""The `discord:` section of config.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from bot.config.base import IdList, PlatformSettings, Section

# What kbot needs in a server: View Channels, Send Messages, Attach Files (the digest's chart), Read
# Message History (/kb save), Create Public Threads, Send Messages in Threads. The invite URL asks for
# these (kbot init) and kbot doctor checks them in every server.
PERMISSIONS = {"View Channels": 1 << 10, "Send Messages": 1 << 11, "Attach Files": 1 << 15,
               "Read Message History": 1 << 16, "Create Public Threads": 1 << 35, "Send Messages in Threads": 1 << 38}
ADMINISTRATOR = 1 << 3


class DiscordShards(Section):
    """Gateway sharding (discord.py's AutoShardedClient): Discord requires it past 2,500 servers.

    `count: auto` lets Discord choose and runs every shard here; `count: 8, ids: [0, 1, 2, 3]` runs
    half of eight shards in this process (another runs 4-7). DMs arrive on shard 0 only."""

    count: int | Literal["auto"] = Field("auto")
    ids: list[int] | None = None  # this process's shards; omitted: all of them

    @model_validator(mode="after")
    def _ids_in_range(self) -> DiscordShards:
        if self.ids is not None:
            if self.count == "auto":
                raise ValueError("discord.shards.ids needs a fixed discord.shards.count (not auto)")
            if not self.ids or any(not 0 <= i < self.count for i in self.ids) or len(set(self.ids)) != len(self.ids):
                raise ValueError(f"discord.shards.ids: distinct shard numbers from 0 to {self.count - 1}")
        if isinstance(self.count, int) and self.count < 1:
            raise ValueError("discord.shards.count: at least 1, or auto")
        return self


class DiscordSettings(PlatformSettings):
    token: SecretStr | None = None  # needs the Message Content intent (see README)
    base_url: str | None = None  # REST base (e.g. a local server); the gateway URL is asked from it
    thread_per_question: bool = False  # open a thread under each question asked in a channel
    allowed_servers: IdList = Field(default_factory=list)  # guild ids answered without approval
    allowed_users: IdList = Field(default_factory=list)  # user ids whose DMs are answered without approval
    shards: DiscordShards | None = None  # null: one gateway connection, no sharding

    def required_secrets(self) -> dict[str, str]:
        return {"token": "discord is enabled"}

    def allowed_places(self) -> frozenset[str]:
        """The listed servers, and the DMs of the listed users and of kbot's admins."""
        return frozenset(self.allowed_servers) | {f"dm:{user}" for user in [*self.allowed_users, *self.admins]}
