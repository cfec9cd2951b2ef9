"""`/kb` on Slack: the slash command, files shared with kbot (in a DM or a thread it answers in), and
job progress edited into the message the command posted."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.progress import ProgressDisplay
from bot.adapters.slack.events import MENTION, PLATFORM, SlackEvents, in_private_channel
from bot.adapters.slack.port import plain
from bot.chat import commands
from bot.chat.commands.saved_threads import MAX_MESSAGES
from bot.core.jobs import JobView, ProgressTarget
from bot.core.messages import Incoming, ThreadKey
from bot.core.pacing import EditBudgets
from bot.core.requests import CommandRequest, ThreadCapture, ThreadMessage, Upload
from bot.core.scopes import upload_scope
from bot.core.service import ServicePort

UPLOAD_HOW = ("Slash commands can't carry files. Share the file with me in a direct message, or in a thread I'm "
              "answering in, and I'll index it here.")


class SlackCommands:
    def __init__(self, client: AsyncWebClient, service: ServicePort, events: SlackEvents, budgets: EditBudgets,
                 bot_token: str, max_upload_bytes: int, public_uploads: str) -> None:
        self.client = client
        self.service = service
        self.events = events
        self.budgets = budgets
        self._bot_token = bot_token
        self.max_upload_bytes = max_upload_bytes
        self.public_uploads = public_uploads
        # chat.update is the workspace's Tier 3 budget: progress keeps half of it for answers.
        self.progress = ProgressDisplay(budgets, self._edit_progress, lambda target: target.workspace,
                                        errors=(SlackApiError,), keep_half=True)

    async def _incoming(self, team: str, channel: str, thread: str, user: str, args: str, payload: dict[str, Any],
                        channel_type: str | None = None) -> Incoming:
        is_admin = await self.events.admins.admin(user, lambda: self.events.platform_admin(user))
        # Anything here may upload: privacy is asked afresh (a channel just made private keeps its uploads).
        return await self.events.incoming(team, channel, thread, user, args, payload, channel_type=channel_type,
                                          fresh=True, is_admin=is_admin)

    def _request(self, incoming: Incoming, args: str, upload: Upload | None = None) -> CommandRequest:
        key = incoming.key
        where = upload_scope(PLATFORM, key.workspace, key.channel, in_private_channel(incoming), self.public_uploads)
        return CommandRequest(incoming, args, upload_scope=where, upload=upload,
                              max_upload_bytes=self.max_upload_bytes)

    async def slash(self, command: dict[str, Any]) -> None:
        team, channel, user = str(command.get("team_id")), str(command.get("channel_id")), str(command.get("user_id"))
        name, args = commands.parse(f"/kb {command.get('text') or ''}") or ("help", "")
        if name == "upload":
            await self._ephemeral(channel, user, UPLOAD_HOW)
            return
        incoming = await self._incoming(team, channel, "command", user, args, command)
        reply = await self.service.command(name, self._request(incoming, args), self._poster(team, channel, None))
        if reply.text:
            if reply.private:
                await self._ephemeral(channel, user, reply.text)
            else:
                await self._post(channel, None, reply.text)

    async def typed(self, team: str, event: dict[str, Any], name: str, args: str) -> None:
        """`kb <command>` written as a message (Slack runs no slash command inside a thread): it runs
        with the thread it was written in, so `kb save` there keeps that thread."""
        channel, user = str(event["channel"]), str(event.get("user"))
        thread = str(event.get("thread_ts") or event.get("ts"))
        incoming = await self._incoming(team, channel, thread, user, args, event, event.get("channel_type"))
        capture = ThreadCapture(ThreadKey(PLATFORM, team, channel, thread), await self._permalink(channel, thread),
                                lambda: self._thread_messages(channel, thread))
        request = replace(self._request(incoming, args), thread=capture)
        reply = await self.service.command(name, request, self._poster(team, channel, thread))
        if reply.text:
            if reply.private:
                await self._ephemeral(channel, user, reply.text)
            else:
                await self._post(channel, thread, reply.text)

    async def message_at(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message, in a thread or not (Slack finds a reply's thread from the reply's own ts)."""
        try:
            response = await self.client.conversations_replies(channel=channel, ts=ts, limit=MAX_MESSAGES)
        except SlackApiError:
            return None
        return next((m for m in response.get("messages") or [] if str(m.get("ts")) == ts), None)

    async def _permalink(self, channel: str, ts: str) -> str:
        try:
            return str((await self.client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
        except SlackApiError:
            return f"slack thread {channel}/{ts}"

    async def _thread_messages(self, channel: str, thread: str) -> list[ThreadMessage]:
        """The thread as Slack has it (at most MAX_MESSAGES), with people's display names."""
        response = await self.client.conversations_replies(channel=channel, ts=thread, limit=MAX_MESSAGES)
        names: dict[str, str] = {}
        messages = []
        for message in response.get("messages") or []:
            if message.get("bot_id"):
                messages.append(ThreadMessage("kbot", str(message.get("text") or ""), by_kbot=True))
                continue
            user = str(message.get("user") or "")
            if user not in names:
                names[user] = await self._display_name(user)
            messages.append(ThreadMessage(names[user], MENTION.sub("", str(message.get("text") or "")).strip()))
        return messages

    async def _display_name(self, user: str) -> str:
        try:
            profile = (await self.client.users_info(user=user))["user"]
        except SlackApiError:
            return "a teammate"
        details = profile.get("profile") or {}
        return str(details.get("display_name") or details.get("real_name") or profile.get("name") or "a teammate")

    async def files(self, team: str, event: dict[str, Any]) -> None:
        """Every file shared with kbot (in a DM, or a thread it answers in) is indexed there."""
        channel, user = str(event["channel"]), str(event.get("user"))
        thread = str(event.get("thread_ts") or event.get("ts"))
        incoming = await self._incoming(team, channel, thread, user, "", event, event.get("channel_type"))
        for shared in event.get("files") or []:
            url = shared.get("url_private_download") or shared.get("url_private")
            upload = Upload(str(shared.get("name") or "file"), int(shared.get("size") or 0),
                            functools.partial(self._download, url))
            reply = await self.service.command("upload", self._request(incoming, "", upload),
                                               self._poster(team, channel, thread))
            if reply.text:
                await self._post(channel, thread, reply.text)

    async def _download(self, url: str) -> bytes:
        async with aiohttp.ClientSession() as session, session.get(
                url, headers={"Authorization": f"Bearer {self._bot_token}"}) as response:
            response.raise_for_status()
            return await response.read()

    def _poster(self, team: str, channel: str, thread: str | None) -> commands.PostProgress:
        async def post(text: str) -> ProgressTarget:
            return ProgressTarget(PLATFORM, team, channel, await self._post(channel, thread, text), thread)

        return post

    async def _post(self, channel: str, thread: str | None, text: str) -> str:
        response = await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=plain(text),
                                                      unfurl_links=False, unfurl_media=False)
        return str(response["ts"])

    async def _ephemeral(self, channel: str, user: str, text: str) -> None:
        await self.client.chat_postEphemeral(channel=channel, user=user, text=plain(text))

    async def show_job(self, view: JobView) -> None:
        await self.progress.show(view)

    async def _edit_progress(self, target: ProgressTarget, text: str) -> None:
        await self.client.chat_update(channel=target.channel, ts=target.message, text=plain(text))
