"""private_first on Slack: the answer goes to the asker as an ephemeral message in the thread (Slack
lets nobody edit those, so it is sent once, whole), with a "Share with the channel" button."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.formatting import sources_lines
from bot.adapters.slack.port import MAX_LENGTH, fallback_text, final_blocks, plain
from bot.core.messages import Answer, PortLimits
from bot.core.pacing import UNPACED, Pacing

SHARE_ACTION = "kbot_share"
SHARE_LABEL = "Share with the channel"
ONLY_YOU = "Only you can see this answer."


def share_value(reply_id: str, thread_ts: str) -> str:
    return f"{reply_id}|{thread_ts}"


def parse_share(value: str) -> tuple[str, str]:
    reply_id, _, thread_ts = value.partition("|")
    return reply_id, thread_ts


class SlackPrivatePort:
    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str, user: str) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.user = user

    @property
    def limits(self) -> PortLimits:
        return PortLimits(max_length=MAX_LENGTH, min_edit_interval_s=3600.0)  # nothing to edit: sent once

    @property
    def pacing(self) -> Pacing:
        return UNPACED

    async def start(self) -> None:
        return None

    async def update(self, index: int, text: str) -> None:
        return None  # an ephemeral message cannot be edited: the answer is sent when it is whole

    async def finish(self, answer: Answer) -> None:
        sources = sources_lines(answer)
        blocks: list[dict[str, Any]] = final_blocks(answer.text, sources, None)[:47]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ONLY_YOU}]})
        if answer.grounded and answer.reply_id:
            blocks.append({"type": "actions", "block_id": "kbot_share", "elements": [{
                "type": "button", "action_id": SHARE_ACTION, "value": share_value(answer.reply_id, self.thread_ts),
                "text": {"type": "plain_text", "text": SHARE_LABEL}}]})
        await self.client.chat_postEphemeral(channel=self.channel, user=self.user, thread_ts=self.thread_ts,
                                             text=fallback_text(answer.text, sources), blocks=blocks)

    async def fail(self, message: str) -> None:
        await self.client.chat_postEphemeral(channel=self.channel, user=self.user, thread_ts=self.thread_ts,
                                             text=plain(f"⚠️ {message}"))
