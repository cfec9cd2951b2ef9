"""A real local Discord (127.0.0.1): REST under /api/v10 and a gateway WebSocket that discord.py uses unchanged.

The gateway says HELLO, takes IDENTIFY, sends READY and GUILD_CREATE, acknowledges heartbeats and
dispatches the events a test makes. REST keeps messages and threads, and enforces Discord's limits:
2,000 characters of content, and Discord's bucket of 5 messages or edits per 5 s per channel (a 429
with `retry_after` and a `Via` header, as discord.py expects of the real API).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot.adapters.discord.settings import PERMISSIONS
from tests.fakes.aio import FakePlatform
from tests.support.clock import TEST_CLOCK, ScaledClock

TOKEN = "discord-test-token-not-secret"
BOT_ID = "900000000000000001"
APP_ID = "900000000000000002"
BOT_USER = {"id": BOT_ID, "username": "kbot", "discriminator": "0", "global_name": "kbot", "avatar": None,
            "bot": True, "flags": 0}
VIEW_CHANNEL = 1 << 10
ALL_NEEDED = sum(PERMISSIONS.values())  # kbot's permissions in a server unless a test says otherwise
SUPPRESS_EMBEDS = 1 << 2


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class DiscordMessage:
    id: str
    channel_id: str
    content: str
    author_id: str
    reference: str | None = None
    components: list = field(default_factory=list)
    flags: int = 0
    allowed_mentions: Any = None
    edits: int = 0


@dataclass
class DiscordState:
    messages: dict[str, DiscordMessage] = field(default_factory=dict)
    channels: dict[str, dict] = field(default_factory=dict)
    guilds: dict[str, dict] = field(default_factory=dict)
    commands: list = field(default_factory=list)
    interaction_responses: list[dict] = field(default_factory=list)
    identified_intents: list[int] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    too_many_requests: int = 0
    rejected: list[str] = field(default_factory=list)
    writes: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    dms_closed: set[str] = field(default_factory=set)  # users who accept no DMs from server members
    files_sent: list[dict] = field(default_factory=list)  # attachments kbot uploaded: path, filename, data
    recommended_shards: int = 1  # what GET /gateway/bot tells a client that lets Discord choose
    shards: list[tuple[int, int]] = field(default_factory=list)  # [shard id, count] of each IDENTIFY


def shard_of(guild_id: str | None, count: int) -> int:
    """Discord's rule: a guild's events go to shard (guild_id >> 22) % count; DMs only to shard 0."""
    return (int(guild_id) >> 22) % count if guild_id else 0


class FakeDiscord(FakePlatform):
    window_s = 5.0  # at most `bucket` messages or edits per channel in this window
    bucket = 5

    def __init__(self, clock: ScaledClock = TEST_CLOCK) -> None:
        self.state = DiscordState()
        self.message_content_intent = True  # the application flag the developer portal sets
        self.revoked = False  # True: the token was reset in the developer portal
        self.bot_permissions: dict[str, int] = {}  # guild -> kbot's permissions there (default: all it needs)
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._seq = itertools.count(1)
        self._shard: dict[int, tuple[int, int]] = {}  # id(websocket) -> (shard id, shard count)
        self._interaction_channels: dict[str, str] = {}  # interaction token -> channel
        self.original_responses: dict[str, str] = {}  # interaction token -> message id
        self._pending: set = set()
        self._interaction_types: dict[str, int] = {}
        self._interaction_originals: dict[str, dict] = {}  # interaction id -> its type 4 response data
        self.attachments: dict[str, bytes] = {}
        # Called (on the server's thread, before kbot gets its response) with each message that has just
        # been given buttons: what a person clicking at that instant would find.
        self.on_buttons: Callable[[DiscordMessage], None] | None = None
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{attachment_id}/{name}", self._attachment)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        super().__init__(app, clock)

    @property
    def api_base(self) -> str:
        return f"{self.server.url}/api/v10"

    def new_id(self) -> str:
        return str(next(self._ids))

    # -- the world a test sets up ---------------------------------------------------------------------

    def revoke_token(self) -> None:
        """The token is reset in the developer portal: the gateway closes with 4004, REST answers 401."""
        self.revoked = True

        async def close() -> None:
            for ws in list(self._sockets):
                await ws.close(code=4004, message=b"Authentication failed.")

        self.server.run(close())

    def add_guild(self, guild_id: str, channels: dict[str, bool]) -> None:
        """A guild with text channels; True marks a private one (@everyone may not view it)."""
        chans = []
        for channel_id, private in channels.items():
            overwrites = [{"id": guild_id, "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)}] if private else []
            chan = {"id": channel_id, "type": 0, "guild_id": guild_id, "name": f"ch{channel_id[-3:]}", "position": 0,
                    "permission_overwrites": overwrites, "nsfw": False, "parent_id": None, "topic": None,
                    "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}
            self.state.channels[channel_id] = chan
            chans.append(chan)
        self.state.guilds[guild_id] = {
            "id": guild_id, "name": f"guild {guild_id[-3:]}", "owner_id": "1", "unavailable": False, "large": False,
            "member_count": 2, "roles": [{"id": guild_id, "name": "@everyone", "permissions": str(VIEW_CHANNEL | 2048),
                                          "position": 0, "color": 0, "hoist": False, "managed": False,
                                          "mentionable": False, "flags": 0}],
            "channels": chans, "threads": [], "members": [], "voice_states": [], "presences": [], "emojis": [],
            "stickers": [], "features": [], "joined_at": _now(), "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "premium_tier": 0,
            "system_channel_flags": 0, "preferred_locale": "en-US", "nsfw_level": 0, "icon": None,
            "application_id": None, "afk_channel_id": None, "system_channel_id": None, "rules_channel_id": None,
            "public_updates_channel_id": None, "vanity_url_code": None, "description": None, "banner": None,
            "splash": None, "discovery_splash": None, "premium_subscription_count": 0, "max_video_channel_users": 25,
            "guild_scheduled_events": [], "stage_instances": [], "premium_progress_bar_enabled": False,
        }

    def hide_from_everyone(self, guild_id: str, *, staff_channels: tuple[str, ...] = (),
                           open_channels: tuple[str, ...] = ()) -> None:
        """@everyone loses View Channel server-wide; a "staff" role may still view `staff_channels` (a
        channel hidden through role permissions, with no @everyone overwrite of its own), and an
        @everyone overwrite opens `open_channels` to all again."""
        guild = self.state.guilds[guild_id]
        everyone = next(r for r in guild["roles"] if r["id"] == guild_id)
        everyone["permissions"] = str(2048)  # send messages, but no View Channel
        staff = str(int(guild_id) + 7)
        guild["roles"].append({**everyone, "id": staff, "name": "staff", "position": 1,
                               "permissions": str(VIEW_CHANNEL | 2048)})
        for channel_id in staff_channels:
            self.state.channels[channel_id]["permission_overwrites"] = [
                {"id": staff, "type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"}]
        for channel_id in open_channels:
            self.state.channels[channel_id]["permission_overwrites"] = [
                {"id": guild_id, "type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"}]

    def add_category(self, guild_id: str, category_id: str, channels: tuple[str, ...], private: bool) -> None:
        """A category holding `channels`, their overwrites synced with its own (as Discord copies them)."""
        overwrites = [{"id": guild_id, "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)}] if private else []
        category = {"id": category_id, "type": 4, "guild_id": guild_id, "name": f"cat{category_id[-3:]}",
                    "position": 0, "permission_overwrites": overwrites, "nsfw": False, "parent_id": None,
                    "flags": 0}
        self.state.channels[category_id] = category
        self.state.guilds[guild_id]["channels"].append(category)
        for channel_id in channels:
            self.state.channels[channel_id].update(parent_id=category_id, permission_overwrites=list(overwrites))

    def add_thread(self, channel_id: str, thread_id: str, *, private: bool, member: str = "700000000000000001") -> str:
        """A thread a person opened in a channel: public (type 11) or private (type 12: only its members,
        and the server's moderators, see it)."""
        parent = self.state.channels[channel_id]
        thread = {"id": thread_id, "type": 12 if private else 11, "guild_id": parent["guild_id"],
                  "parent_id": channel_id, "owner_id": member, "name": f"thread{thread_id[-3:]}", "message_count": 0,
                  "member_count": 1, "rate_limit_per_user": 0, "flags": 0, "last_message_id": None,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                      "archive_timestamp": _now(), "locked": False, "invitable": False}}
        self.state.channels[thread_id] = thread
        self.state.guilds[parent["guild_id"]]["threads"].append(thread)  # in GUILD_CREATE, for a bot yet to connect
        self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return thread_id

    def _user(self, user_id: str) -> dict:
        return {"id": user_id, "username": f"user{user_id[-3:]}", "discriminator": "0", "global_name": None,
                "avatar": None, "bot": False, "flags": 0}

    def message_json(self, m: DiscordMessage) -> dict:
        channel = self.state.channels.get(m.channel_id, {})
        author = BOT_USER if m.author_id == BOT_ID else self._user(m.author_id)
        data: dict[str, Any] = {
            "id": m.id, "channel_id": m.channel_id, "author": author, "content": m.content, "timestamp": _now(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 19 if m.reference else 0, "flags": m.flags,
            "components": m.components,
        }
        if channel.get("guild_id"):
            data["guild_id"] = channel["guild_id"]
        if m.reference:
            data["message_reference"] = {"message_id": m.reference, "channel_id": m.channel_id,
                                         "guild_id": channel.get("guild_id")}
            ref = self.state.messages.get(m.reference)
            if ref is not None:
                data["referenced_message"] = self.message_json(DiscordMessage(ref.id, ref.channel_id, ref.content,
                                                                              ref.author_id))
        return data

    def user_message(self, channel_id: str, content: str, *, user_id: str = "700000000000000001",
                     mention_bot: bool = False, reply_to: str | None = None, message_id: str | None = None,
                     attachments: tuple[tuple[str, str], ...] = (), voice: bool = False,
                     sticker: bool = False) -> dict:
        """A person's message, dispatched as MESSAGE_CREATE; returns the event data (dispatch it again to replay).
        `attachments` are (file name, content type); `voice` adds a voice message, `sticker` a sticker."""
        text = f"<@{BOT_ID}> {content}" if mention_bot else content
        message = DiscordMessage(message_id or self.new_id(), channel_id, text, user_id, reference=reply_to)
        self.state.messages[message.id] = message
        data = self.message_json(message)
        if mention_bot:
            data["mentions"] = [BOT_USER]
        for name, content_type in attachments:
            data["attachments"].append({"id": self.new_id(), "filename": name, "size": 1000,
                                        "content_type": content_type, "url": f"{self.server.url}/attachments/x/{name}",
                                        "proxy_url": f"{self.server.url}/attachments/x/{name}"})
        if voice:
            data["attachments"].append({"id": self.new_id(), "filename": "voice-message.ogg", "size": 9000,
                                        "content_type": "audio/ogg", "duration_secs": 3.2, "waveform": "AAAA",
                                        "url": f"{self.server.url}/attachments/x/v.ogg",
                                        "proxy_url": f"{self.server.url}/attachments/x/v.ogg"})
            data["flags"] = data.get("flags", 0) | (1 << 13)
        if sticker:
            data["sticker_items"] = [{"id": self.new_id(), "name": "wave", "format_type": 1}]
        self.dispatch("MESSAGE_CREATE", data)
        return data

    def dm_channel(self, user_id: str) -> str:
        channel_id = self.new_id()
        self.state.channels[channel_id] = {"id": channel_id, "type": 1, "recipients": [self._user(user_id)],
                                           "last_message_id": None}
        return channel_id

    def _interaction(self, kind: int, channel_id: str, user_id: str, data: dict, permissions: int = 0,
                     **extra: Any) -> str:
        """Dispatch an INTERACTION_CREATE of `kind` (2 a command, 3 a button) by `user_id` in a channel."""
        interaction_id = self.new_id()
        channel = self.state.channels[channel_id]
        payload: dict[str, Any] = {
            "id": interaction_id, "application_id": APP_ID, "type": kind, "token": f"itoken{interaction_id}",
            "version": 1, "data": data, "channel_id": channel_id, "channel": channel, "locale": "en-US",
            "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {}, "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024, **extra,
        }
        if channel.get("guild_id"):
            payload["guild_id"] = channel["guild_id"]
            payload["member"] = {"user": self._user(user_id), "roles": [], "permissions": str(permissions),
                                 "joined_at": _now(), "deaf": False, "mute": False, "flags": 0}
        else:
            payload["user"] = self._user(user_id)
        self._interaction_channels[f"itoken{interaction_id}"] = channel_id
        self._interaction_types[interaction_id] = kind
        self.dispatch("INTERACTION_CREATE", payload)
        return interaction_id

    def click(self, message: DiscordMessage, custom_id: str, *, user_id: str = "700000000000000009") -> str:
        return self._interaction(3, message.channel_id, user_id, {"custom_id": custom_id, "component_type": 2},
                                 message=self.message_json(message))

    def slash(self, channel_id: str, question: str, *, user_id: str = "700000000000000001") -> str:
        """A person runs `/ask question:<question>`; returns the interaction id."""
        return self._interaction(2, channel_id, user_id, {
            "id": "1", "name": "ask", "type": 1, "options": [{"name": "question", "type": 3, "value": question}]})

    def kb(self, channel_id: str, sub: str, *, user_id: str = "700000000000000001", manage_server: bool = False,
           attachment: tuple[str, bytes] | None = None, **options: Any) -> str:
        """A person runs `/kb <sub>` with options; `attachment` (name, bytes) fills the `file` option."""
        values = [{"name": k, "type": 4 if isinstance(v, int) else 3, "value": v} for k, v in options.items()]
        data: dict[str, Any] = {"id": "2", "name": "kb", "type": 1,
                                "options": [{"name": sub, "type": 1, "options": values}]}
        if attachment is not None:
            attachment_id = self.new_id()
            name, content = attachment
            self.attachments[attachment_id] = content
            url = f"{self.server.url}/attachments/{attachment_id}/{name}"
            values.append({"name": "file", "type": 11, "value": attachment_id})
            data["resolved"] = {"attachments": {attachment_id: {
                "id": attachment_id, "filename": name, "size": len(content), "url": url, "proxy_url": url,
                "content_type": "application/octet-stream"}}}
        return self._interaction(2, channel_id, user_id, data, permissions=(1 << 5) if manage_server else 0)

    async def _attachment(self, request: web.Request) -> web.Response:
        content = self.attachments.get(request.match_info["attachment_id"])
        return web.Response(body=content) if content is not None else web.Response(status=404)

    def react(self, message_id: str, emoji: str, *, user_id: str = "700000000000000001") -> None:
        """A person adds the reaction `emoji` to a message (MESSAGE_REACTION_ADD, as a member in a server)."""
        message = self.state.messages[message_id]
        channel = self.state.channels[message.channel_id]
        guild_id = channel.get("guild_id")
        data: dict[str, Any] = {"user_id": user_id, "channel_id": message.channel_id, "message_id": message_id,
                                "emoji": {"id": None, "name": emoji}, "type": 0, "burst": False, "burst_colors": []}
        if guild_id:
            data["guild_id"] = guild_id
            data["member"] = {"user": self._user(user_id), "roles": [], "joined_at": _now(), "deaf": False,
                              "mute": False, "flags": 0}
        self.dispatch("MESSAGE_REACTION_ADD", data)

    def dispatch(self, event: str, data: dict) -> None:
        """Send a gateway event: from a test's thread, or (without blocking) from a REST handler."""
        async def send() -> None:
            for ws in list(self._sockets):
                shard, count = self._shard.get(id(ws), (0, 1))
                if shard_of(data.get("guild_id"), count) == shard:
                    await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

        if self.server.in_server_thread():
            self._pending.add(task := self.server.loop.create_task(send()))
            task.add_done_callback(self._pending.discard)
        else:
            self.server.run(send())

    def channel_messages(self, channel_id: str) -> list[DiscordMessage]:
        return sorted((m for m in self.state.messages.values() if m.channel_id == channel_id), key=lambda m: int(m.id))

    def bot_messages(self, channel_id: str) -> list[DiscordMessage]:
        return [m for m in self.channel_messages(channel_id) if m.author_id == BOT_ID]

    # -- the gateway ----------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": 41250}}))
        try:
            async for frame in ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                if payload["op"] == 1:
                    await ws.send_str(json.dumps({"op": 11, "s": None, "t": None, "d": None}))
                elif payload["op"] == 2:
                    await self._identify(ws, payload["d"])
        finally:
            self._sockets.remove(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict) -> None:
        if data.get("token") != TOKEN or self.revoked:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.state.identified_intents.append(int(data.get("intents", 0)))
        shard, count = (int(n) for n in data.get("shard") or (0, 1))
        self._shard[id(ws)] = (shard, count)
        self.state.shards.append((shard, count))
        guilds = [g for gid, g in self.state.guilds.items() if shard_of(gid, count) == shard]
        ready = {"v": 10, "user": BOT_USER, "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
                 "session_id": "fake-session", "resume_gateway_url": f"ws://127.0.0.1:{self.server.port}/gateway",
                 "application": {"id": APP_ID, "flags": 0}, "private_channels": [], "relationships": [],
                 "shard": [shard, count]}
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        for guild in guilds:
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": guild}))

    # -- REST -----------------------------------------------------------------------------------------

    def _json(self, data: Any, status: int = 200, **headers: str) -> web.Response:
        # discord.py parses JSON only when the content type is exactly "application/json" (no charset)
        return web.Response(body=json.dumps(data).encode(), status=status,
                            headers={"Content-Type": "application/json", **headers})

    def _error(self, status: int, message: str, code: int = 0) -> web.Response:
        self.state.rejected.append(message)
        return self._json({"message": message, "code": code}, status)

    def _paced(self, channel_id: str) -> web.Response | None:
        stamps = self.state.writes[channel_id]
        now = self.clock.monotonic()
        while stamps and now - stamps[0] >= self.window_s:
            stamps.popleft()
        if len(stamps) >= self.bucket:
            self.state.too_many_requests += 1
            return self._json({"message": "You are being rate limited.", "retry_after": 1.0, "global": False}, 429,
                              Via="1.1 google", **{"Retry-After": "1"})
        stamps.append(now)
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.state.calls.append((request.method, path))
        unauthenticated = path.startswith(("interactions/", "webhooks/"))  # these carry the interaction token
        if (request.headers.get("Authorization") != f"Bot {TOKEN}" or self.revoked) and not unauthenticated:
            return self._error(401, "401: Unauthorized")
        body: Any = None
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                body = json.loads(str(form.get("payload_json", "{}")))
                for key, value in form.items():
                    if key.startswith("files[") and hasattr(value, "file"):
                        self.state.files_sent.append({"path": path, "filename": value.filename,
                                                      "data": value.file.read(), "content": body.get("content")})
            else:
                body = await request.json()
        parts = path.split("/")
        if path == "users/@me":
            return self._json(BOT_USER)
        if path == "users/@me/guilds":  # kbot's servers, each with kbot's permissions there
            return self._json([{"id": gid, "name": guild["name"], "icon": None, "owner": False,
                                "permissions": str(self.bot_permissions.get(gid, ALL_NEEDED)), "features": []}
                               for gid, guild in self.state.guilds.items()])
        if path == "users/@me/channels" and request.method == "POST":
            recipient = str((body or {}).get("recipient_id"))
            existing = next((c for c in self.state.channels.values() if c.get("type") == 1
                             and c["recipients"][0]["id"] == recipient), None)
            return self._json(existing or self.state.channels[self.dm_channel(recipient)])
        if path in ("oauth2/applications/@me", "applications/@me"):
            return self._json({"id": APP_ID, "name": "kbot", "icon": None, "description": "", "bot_public": True,
                               "bot_require_code_grant": False, "owner": self._user("1"), "verify_key": "0" * 64,
                               "flags": (1 << 19) if self.message_content_intent else 0,  # _LIMITED: under 100 servers
                               "team": None, "summary": "", "bot": BOT_USER})
        if path == "gateway/bot":
            return self._json({"url": f"ws://127.0.0.1:{self.server.port}/gateway",
                               "shards": self.state.recommended_shards,
                               "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                       "max_concurrency": 1}})
        if path == "gateway":
            return self._json({"url": f"ws://127.0.0.1:{self.server.port}/gateway"})
        if parts[0] == "applications" and parts[-1] == "commands" and request.method == "PUT":
            self.state.commands = body
            return self._json([{**c, "id": self.new_id(), "application_id": APP_ID, "version": "1",
                                "default_member_permissions": None, "type": c.get("type", 1)} for c in body])
        if parts[0] == "webhooks":
            return self._webhook(request.method, parts[2], parts[3:], body or {})
        if parts[0] == "interactions" and parts[-1] == "callback":
            self.state.interaction_responses.append({"interaction": parts[1], **(body or {})})
            if (body or {}).get("type") in (4, 7):  # a message (or an update of one) is shown
                self._audit(f"interaction response type {body['type']}", (body or {}).get("data") or {})
            if (body or {}).get("type") == 4:
                self._interaction_originals[parts[1]] = (body or {}).get("data") or {}
            if request.query.get("with_response") not in ("1", "true"):
                return web.Response(status=204)
            kind = (body or {}).get("type")
            return self._json({"interaction": {"id": parts[1], "type": self._interaction_types.get(parts[1], 2),
                                               "response_message_loading": kind == 5,
                                               "response_message_ephemeral": False},
                               "resource": {"type": kind}})
        if parts[0] == "channels" and parts[-1] == "typing":
            return web.Response(status=204)
        if parts[0] == "channels" and len(parts) == 4 and parts[2] == "messages" and request.method == "GET":
            found = self.state.messages.get(parts[3])
            if found is None or found.channel_id != parts[1]:
                return self._error(404, "Unknown Message", 10008)
            return self._json(self.message_json(found))
        if parts[0] == "channels" and parts[-1] == "messages" and request.method == "GET":
            return self._history(parts[1], int(request.query.get("limit", 50)), request.query.get("before"))
        if parts[0] == "channels" and parts[-1] == "messages" and request.method == "POST":
            return self._send(parts[1], body)
        if parts[0] == "channels" and len(parts) == 4 and parts[2] == "messages" and request.method == "PATCH":
            return self._edit(parts[1], parts[3], body)
        if parts[0] == "channels" and parts[-1] == "threads" and request.method == "POST":
            return self._thread(parts[1], parts[3], body)
        return self._error(404, f"404: Not Found ({request.method} {path})")

    def _webhook(self, method: str, token: str, rest: list[str], body: dict) -> web.Response:
        """Interaction responses: the deferred original message, and follow-ups."""
        channel_id = self._interaction_channels.get(token)
        if channel_id is None:
            return self._error(404, "Unknown Webhook", 10015)
        if method == "PATCH" and rest[:2] == ["messages", "@original"]:
            message_id = self.original_responses.get(token)
            if message_id is None:  # the first content of a deferred response, or of a type 4 one
                problem = self._check(body)
                if problem is not None:
                    return problem
                initial = self._interaction_originals.get(token.removeprefix("itoken"), {})
                flags = int(body.get("flags") if "flags" in body else initial.get("flags") or 0)
                self._audit("edit of the original interaction response", body, flags)
                message = DiscordMessage(self.new_id(), channel_id, body.get("content") or "", BOT_ID,
                                         components=body.get("components") or [], flags=flags)
                self.state.messages[message.id] = message
                self.original_responses[token] = message.id
                return self._json(self.message_json(message))
            return self._edit(channel_id, message_id, body)
        if method == "PATCH" and rest[:1] == ["messages"]:
            return self._edit(channel_id, rest[1], body)
        if method == "POST" and not rest:  # follow-ups have the interaction's own limit, not the channel's
            return self._send(channel_id, body, paced=False, what="interaction follow-up")
        return self._error(404, f"404: Not Found (webhook {method} {rest})")

    def _audit(self, what: str, body: dict, flags: int | None = None) -> None:
        """The community rule for every write: mentions parsed from nothing, embeds suppressed."""
        self.writes_checked += 1
        content = body.get("content") or ""
        if "@everyone" in content or "@here" in content:
            self.violation(f"{what}: raw mass mention in content")
        if (body.get("allowed_mentions") or {}).get("parse") != [] or any(
                (body.get("allowed_mentions") or {}).get(k) for k in ("users", "roles")):
            self.violation(f"{what}: allowed_mentions does not suppress mentions ({body.get('allowed_mentions')})")
        effective = int(body.get("flags") or 0) if flags is None else flags
        if content and not effective & SUPPRESS_EMBEDS:
            self.violation(f"{what}: link embeds not suppressed (flags {effective})")

    def _check(self, body: dict) -> web.Response | None:
        content = body.get("content") or ""
        if len(content) > 2000:
            return self._error(400, "Invalid Form Body: content: Must be 2000 or fewer in length.", 50035)
        if ("@everyone" in content or "@here" in content) and (body.get("allowed_mentions") or {}).get("parse") != []:
            return self._error(400, "mass mention sent without allowed_mentions suppressing it")
        return None

    def _send(self, channel_id: str, body: dict, paced: bool = True, what: str = "message") -> web.Response:
        if channel_id not in self.state.channels:
            return self._error(404, "Unknown Channel", 10003)
        recipients = self.state.channels[channel_id].get("recipients") or [{}]
        if recipients[0].get("id") in self.state.dms_closed:
            return self._error(403, "Cannot send messages to this user", 50007)
        self._audit(what, body)
        refused = self._check(body) or (self._paced(channel_id) if paced else None)
        if refused is not None:
            return refused
        reference = (body.get("message_reference") or {}).get("message_id")
        reference = str(reference) if reference is not None else None
        message = DiscordMessage(self.new_id(), channel_id, body.get("content") or "", BOT_ID, reference,
                                 body.get("components") or [], int(body.get("flags") or 0),
                                 body.get("allowed_mentions"))
        self.state.messages[message.id] = message
        if message.components and self.on_buttons is not None:
            self.on_buttons(message)
        data = self.message_json(message)
        self.dispatch("MESSAGE_CREATE", data)
        return self._json(data)

    def _edit(self, channel_id: str, message_id: str, body: dict) -> web.Response:
        message = self.state.messages.get(message_id)
        if message is None or message.channel_id != channel_id:
            return self._error(404, "Unknown Message", 10008)
        refused = self._check(body) or self._paced(channel_id)
        if refused is not None:
            return refused
        self._audit("edit", body, int(body["flags"]) if "flags" in body else message.flags)
        if "content" in body:
            message.content = body["content"] or ""
        if "components" in body:
            message.components = body["components"] or []
        if "flags" in body:
            message.flags = int(body["flags"] or 0)
        message.edits += 1
        if body.get("components") and self.on_buttons is not None:
            self.on_buttons(message)
        return self._json(self.message_json(message))

    def _history(self, channel_id: str, limit: int, before: str | None) -> web.Response:
        """GET /channels/{id}/messages: newest first, before a message id, at most `limit` (100)."""
        if channel_id not in self.state.channels:
            return self._error(404, "Unknown Channel", 10003)
        found = [m for m in self.channel_messages(channel_id) if before is None or int(m.id) < int(before)]
        return self._json([self.message_json(m) for m in reversed(found)][: min(limit, 100)])

    def _thread(self, channel_id: str, message_id: str, body: dict) -> web.Response:
        parent = self.state.channels[channel_id]
        thread = {"id": message_id, "type": 11, "guild_id": parent["guild_id"], "parent_id": channel_id,
                  "owner_id": BOT_ID, "name": body.get("name", "thread"), "message_count": 0, "member_count": 1,
                  "rate_limit_per_user": 0, "flags": 0, "last_message_id": None,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                      "archive_timestamp": _now(), "locked": False}}
        self.state.channels[message_id] = thread
        self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return self._json(thread, 201)
