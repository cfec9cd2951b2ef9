"""One answer in one Slack thread: native streaming (chat.startStream/appendStream/stopStream), or
paced chat.update edits when Slack refuses streaming; the final message as blocks, its sources in a
context block and 👍/👎 and "Why these sources?" under it. Only chat.update draws on the workspace's Tier 3 budget."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.formatting import defuse_mentions, slack_escape, sources_lines, to_slack_mrkdwn, writing
from bot.chat.streaming import split_text
from bot.core.messages import Answer, PortLimits
from bot.core.pacing import EditBudget, Pacing
from bot.state.explanations import WHY_LABEL

log = logging.getLogger("kbot.slack")

MAX_LENGTH = 11_000  # under markdown_text's 12,000, leaving room for escaping
SECTION_LIMIT = 3000
THINKING = "is thinking…"
WHY_ACTION = "kbot_why"


def plain(text: str) -> str:
    """Text that is shown as typed: no markup, no pings."""
    return slack_escape(defuse_mentions(text))


def final_blocks(body: str, sources: list[str], reply_id: str | None) -> list[dict[str, Any]]:
    """Sections for the answer, a context block for its sources, and 👍/👎 and "Why these sources?"
    (the last part's)."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in split_text(to_slack_mrkdwn(body), SECTION_LIMIT) if chunk.strip()
    ]
    if sources:
        lines = "\n".join(to_slack_mrkdwn(line) for line in sources)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"*Sources*\n{lines}"[:2900]}]})
    if reply_id:
        blocks.append(feedback_actions(reply_id, explain=bool(sources)))
    return blocks


def fallback_text(body: str, sources: list[str]) -> str:
    """The notification text of a final message (what clients show where blocks are not rendered)."""
    return to_slack_mrkdwn(body + ("\n\nSources:\n" + "\n".join(sources) if sources else ""))


def feedback_actions(reply_id: str, explain: bool = False) -> dict[str, Any]:
    elements: list[dict[str, Any]] = [
        {"type": "button", "action_id": "kbot_feedback_up", "value": reply_id,
         "text": {"type": "plain_text", "text": "👍"}},
        {"type": "button", "action_id": "kbot_feedback_down", "value": reply_id,
         "text": {"type": "plain_text", "text": "👎"}},
    ]
    if explain:
        elements.append({"type": "button", "action_id": WHY_ACTION, "value": reply_id,
                         "text": {"type": "plain_text", "text": WHY_LABEL}})
    return {"type": "actions", "block_id": "kbot_feedback", "elements": elements}


class SlackPort:
    def __init__(self, client: AsyncWebClient, team: str, channel: str, thread_ts: str, user: str,
                 budget: EditBudget, native: bool) -> None:
        self.client = client
        self.team = team
        self.channel = channel
        self.thread_ts = thread_ts
        self.user = user
        self.budget = budget
        self.native = native
        self.ts: list[str] = []  # one message per part
        self.streamed: list[str] = []  # native mode: the text already appended to each part's stream
        self.texts: list[str] = []  # what each message says, as the streamer gave it (no marks)
        self.closed: set[int] = set()  # native mode: parts whose stream has been stopped

    @property
    def limits(self) -> PortLimits:
        return PortLimits(max_length=MAX_LENGTH, min_edit_interval_s=1.0 if self.native else 1.5)

    @property
    def pacing(self) -> Pacing:
        # Appends and new messages are not chat.update calls: only edits draw on the Tier 3 budget.
        return Pacing(edits=None if self.native else self.budget, posts=None)

    async def start(self) -> None:
        # Only assistant threads have a status; elsewhere the streamed reply itself shows progress.
        with contextlib.suppress(SlackApiError):
            await self.client.assistant_threads_setStatus(channel_id=self.channel, thread_ts=self.thread_ts,
                                                          status=THINKING)

    async def _post(self, text: str, shown: str, blocks: list[dict[str, Any]] | None = None) -> None:
        response = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=shown,
                                                      blocks=blocks, unfurl_links=False, unfurl_media=False)
        self.ts.append(str(response["ts"]))
        self.texts.append(text)

    async def _start_stream(self, text: str) -> bool:
        try:
            response = await self.client.chat_startStream(
                channel=self.channel, thread_ts=self.thread_ts, markdown_text=plain(text),
                recipient_team_id=self.team, recipient_user_id=self.user)
        except SlackApiError as exc:
            log.info("slack: native streaming refused (%s); editing messages instead", exc.response.get("error"))
            self.native = False
            return False
        self.ts.append(str(response["ts"]))
        self.streamed.append(text)
        self.texts.append(text)
        return True

    async def update(self, index: int, text: str) -> None:
        try:
            if self.native and index == len(self.ts):
                if index > 0:
                    await self._stop_stream(index - 1, self.texts[index - 1], [], None)
                if await self._start_stream(text):
                    return
            if self.native:
                done = self.streamed[index]
                if text.startswith(done) and len(text) > len(done):
                    await self.client.chat_appendStream(channel=self.channel, ts=self.ts[index],
                                                        markdown_text=plain(text[len(done):]))
                    self.streamed[index] = text
                self.texts[index] = text
            elif index == len(self.ts):
                await self._post(text, plain(writing(text)))
            else:
                await self.client.chat_update(channel=self.channel, ts=self.ts[index], text=plain(writing(text)))
                self.texts[index] = text
        except SlackApiError as exc:  # an intermediate update is best effort
            log.warning("slack: intermediate update failed: %s", exc.response.get("error"))

    async def _rewrite(self, index: int, body: str, sources: list[str], reply_id: str | None) -> None:
        """The whole final message again (chat.update, on the workspace's budget)."""
        await self.budget.write(lambda: self.client.chat_update(
            channel=self.channel, ts=self.ts[index], text=fallback_text(body, sources),
            blocks=final_blocks(body, sources, reply_id)))

    async def _stop_stream(self, index: int, body: str, sources: list[str], reply_id: str | None) -> None:
        done = self.streamed[index]
        if index in self.closed:  # stopped when the answer moved on to the next part
            if body != done or reply_id or sources:
                await self._rewrite(index, body, sources, reply_id)
            return
        self.closed.add(index)
        rest = body[len(done):] if body.startswith(done) else ""
        blocks = [b for b in final_blocks(body, sources, reply_id) if b["type"] != "section"]
        await self.client.chat_stopStream(channel=self.channel, ts=self.ts[index],
                                          markdown_text=plain(rest) or None, blocks=blocks or None)
        self.streamed[index] = body
        if not body.startswith(done):  # the split moved: rewrite the message whole
            await self._rewrite(index, body, sources, reply_id)

    async def finish(self, answer: Answer) -> None:
        parts = split_text(answer.text, MAX_LENGTH)
        for index, body in enumerate(parts):
            last = index == len(parts) - 1
            sources = sources_lines(answer) if last else []
            reply_id = answer.reply_id if last else None
            if index < len(self.ts) and index < len(self.streamed):
                await self._stop_stream(index, body, sources, reply_id)
            elif index < len(self.ts):
                await self._rewrite(index, body, sources, reply_id)
            else:
                await self._post(body, fallback_text(body, sources), final_blocks(body, sources, reply_id))

    async def fail(self, message: str) -> None:
        notice = f"⚠️ {message}"
        if self.ts and len(self.streamed) == len(self.ts) and len(self.ts) - 1 not in self.closed:
            self.closed.add(len(self.ts) - 1)
            await self.client.chat_stopStream(channel=self.channel, ts=self.ts[-1], markdown_text=f"\n\n{notice}")
        elif self.ts:
            await self.budget.write(lambda: self.client.chat_update(
                channel=self.channel, ts=self.ts[-1], text=f"{plain(self.texts[-1])}\n\n{notice}"))
        else:
            await self._post(notice, plain(notice))
