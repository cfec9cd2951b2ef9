"""Slack events and payloads -> `Incoming`: which messages are questions, their threads and scopes."""

from __future__ import annotations

import re
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.admins import AdminRule
from bot.core.messages import Incoming, ThreadKey
from bot.core.scopes import visible_scopes

PLATFORM = "slack"
MENTION = re.compile(r"<@[A-Z0-9]+>")
PUBLIC_CACHE_S = 60.0  # how long a channel's "public" answer from conversations.info is reused
_PRIVATE_TYPES = {"channel": False, "group": True, "im": True, "mpim": True}  # an event's channel_type


class SlackEvents:
    def __init__(self, client: AsyncWebClient, admins: AdminRule) -> None:
        self.client = client
        self.admins = admins
        self._public_until: dict[str, float] = {}  # channel -> until when its "public" answer is reused

    async def is_private(self, channel: str, channel_type: str | None = None, fresh: bool = False) -> bool:
        """Private channels, DMs and group DMs, from Slack itself: the event's own `channel_type` when
        it has one, else conversations.info. Only a "public" answer is reused, for a minute: a stale one
        can only narrow what is read, and uploads (`fresh`) always ask again, so a channel made private
        never has an upload land in the whole workspace."""
        if channel_type in _PRIVATE_TYPES:
            return _PRIVATE_TYPES[channel_type]
        now = time.monotonic()
        if not fresh and self._public_until.get(channel, 0.0) > now:
            return False
        try:
            info = (await self.client.conversations_info(channel=channel))["channel"]
            private = bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
        except SlackApiError:
            private = True  # unknown: uploads stay in the channel, the narrower place
        if private:
            self._public_until.pop(channel, None)
        else:
            self._public_until[channel] = now + PUBLIC_CACHE_S
        return private

    async def platform_admin(self, user: str) -> bool:
        """Slack workspace admins and owners, asked of users.info every time."""
        try:
            info = (await self.client.users_info(user=user))["user"]
        except SlackApiError:
            return False
        return bool(info.get("is_admin") or info.get("is_owner"))

    async def incoming(self, team: str, channel: str, thread_ts: str, user: str, text: str, payload: dict[str, Any],
                       *, channel_type: str | None = None, fresh: bool = False, is_admin: bool = False) -> Incoming:
        private = await self.is_private(channel, channel_type, fresh)
        return Incoming(
            key=ThreadKey(PLATFORM, team, channel, thread_ts), author=user, text=text,
            scopes=visible_scopes(PLATFORM, team, channel, private), raw=payload,
            is_admin=is_admin or self.admins.operator(user), operator=self.admins.operator(user),
            place_name=str(payload.get("team_domain") or team),
        )



def in_private_channel(incoming: Incoming) -> bool:
    """Whether the message came from a private channel or a DM, as its granted scopes already say."""
    key = incoming.key
    return f"{PLATFORM}:{key.workspace}:{key.channel}" in incoming.granted


def question_text(event: dict[str, Any]) -> str:
    return MENTION.sub("", event.get("text") or "").strip()


def media_of(event: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What a message carries besides text: (kinds of media, e.g. "a photo"; other attached file names)."""
    kinds: list[str] = []
    files: list[str] = []
    for shared in event.get("files") or []:
        mimetype = str(shared.get("mimetype") or "")
        if shared.get("subtype") == "slack_audio":
            kinds.append("a voice clip")
        elif mimetype.startswith(("image/", "video/", "audio/")):
            kinds.append({"image": "a photo", "video": "a video", "audio": "audio"}[mimetype.split("/")[0]])
        else:
            files.append(str(shared.get("name") or "the file"))
    return list(dict.fromkeys(kinds)), files
