"""Slack side of the `/kb` commands: the slash command, files shared with kbot, and job progress edits."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import commands
from bot.adapters.formatting import slack_escape
from bot.commands import CommandRequest, Upload
from bot.jobs import JobView
from bot.messages import Incoming, ThreadKey
from bot.scopes import channel_scope, workspace_scope
from bot.service import QuestionService
from bot.streaming import EditBudgets

log = logging.getLogger("kbot.slack")

PLATFORM = "slack"
UPLOAD_HOW = ("Slash commands can't carry files. Share the file with me in a direct message, or in a thread I'm "
              "answering in, and I'll index it here.")


class SlackCommands:
    def __init__(self, client: AsyncWebClient, service: QuestionService, budgets: EditBudgets, admins: list[str],
                 bot_token: str, max_file_bytes: int, public_uploads: str = "workspace") -> None:
        self.client = client
        self.service = service
        self.budgets = budgets
        self.admins = admins
        self.bot_token = bot_token
        self.max_file_bytes = max_file_bytes
        self.public_uploads = public_uploads

    async def is_admin(self, user: str) -> bool:
        """Configured admins, and Slack workspace admins and owners, asked of users.info every time
        (never cached: a person who stops being an admin stops at once)."""
        if user in self.admins:
            return True
        try:
            info = (await self.client.users_info(user=user))["user"]
        except SlackApiError:
            return False
        return bool(info.get("is_admin") or info.get("is_owner"))

    async def _request(self, team: str, channel: str, thread: str, user: str, args: str, scopes: frozenset[str],
                       private: bool, upload: Upload | None = None) -> CommandRequest:
        incoming = Incoming(ThreadKey(PLATFORM, team, channel, thread), user, args, scopes,
                            is_admin=await self.is_admin(user), operator=user in self.admins, place_name=team)
        own = private or self.public_uploads == "channel"
        where = channel_scope(PLATFORM, team, channel) if own else workspace_scope(PLATFORM, team)
        return CommandRequest(incoming, args, upload_scope=where, upload=upload, max_upload_bytes=self.max_file_bytes)

    async def slash(self, command: dict[str, Any], scopes: frozenset[str], private: bool) -> None:
        team, channel, user = str(command.get("team_id")), str(command.get("channel_id")), str(command.get("user_id"))
        parsed = commands.parse(f"/kb {command.get('text') or ''}")
        name, args = parsed if parsed is not None else ("help", "")
        if name == "upload":
            await self._ephemeral(channel, user, UPLOAD_HOW)
            return
        request = await self._request(team, channel, "command", user, args, scopes, private)
        reply = await self.service.command(name, request, self._poster(team, channel, None))
        if reply.text:
            if reply.private:
                await self._ephemeral(channel, user, reply.text)
            else:
                await self._post(channel, None, reply.text)

    async def files(self, team: str, event: dict[str, Any], scopes: frozenset[str], private: bool) -> None:
        """Every file shared with kbot (in a DM, or a thread it answers in) is indexed there."""
        channel, user = str(event["channel"]), str(event.get("user"))
        thread = event.get("thread_ts") or event.get("ts")
        for shared in event.get("files") or []:
            url = shared.get("url_private_download") or shared.get("url_private")
            upload = Upload(str(shared.get("name") or "file"), int(shared.get("size") or 0),
                            lambda url=url: self._download(url))
            request = await self._request(team, channel, str(thread), user, "", scopes, private, upload)
            reply = await self.service.command("upload", request, self._poster(team, channel, str(thread)))
            if reply.text:
                await self._post(channel, str(thread), reply.text)

    async def _download(self, url: str) -> bytes:
        async with aiohttp.ClientSession() as session, session.get(
                url, headers={"Authorization": f"Bearer {self.bot_token}"}) as response:
            response.raise_for_status()
            return await response.read()

    def _poster(self, team: str, channel: str, thread: str | None) -> commands.PostProgress:
        async def post(text: str) -> dict:
            sent = await self._post(channel, thread, text)
            return {"platform": PLATFORM, "team": team, "channel": channel, "ts": sent}

        return post

    async def _post(self, channel: str, thread: str | None, text: str) -> str:
        response = await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=slack_escape(text),
                                                      unfurl_links=False, unfurl_media=False)
        return str(response["ts"])

    async def _ephemeral(self, channel: str, user: str, text: str) -> None:
        await self.client.chat_postEphemeral(channel=channel, user=user, text=slack_escape(text))

    async def show_job(self, view: JobView) -> None:
        """Edit the job's message; chat.update draws on the workspace's budget (the end always gets through)."""
        channel, ts = view.target.get("channel"), view.target.get("ts")
        if channel is None or ts is None:
            return
        budget = self.budgets[str(view.target.get("team"))]
        if not await budget.acquire(must=view.ended, keep=budget.calls // 2):
            return
        try:
            await self.client.chat_update(channel=str(channel), ts=str(ts), text=slack_escape(view.describe()))
        except SlackApiError as exc:
            log.warning("slack: could not show job progress: %s", exc.response.get("error"))
        budget.settle()
