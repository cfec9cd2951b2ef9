"""A real local Slack (127.0.0.1): the Web API over HTTP and event delivery by Socket Mode or signed requests.

slack-bolt and slack_sdk talk to it unchanged (`base_url`). It keeps every message, edit and stream,
and enforces Slack's limits: 40,000 characters of text, 12,000 of markdown_text, 50 blocks, 3,000 per
section; chat.update at Tier 3 (50 a minute per workspace) and appends at most about one a second
per stream, answered with 429 and Retry-After otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.aio import FakePlatform
from tests.support.clock import TEST_CLOCK, ScaledClock

BOT_TOKEN = "xoxb-test-not-secret"
APP_TOKEN = "xapp-test-not-secret"
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UKBOT"
BOT_ID = "BKBOT"
UPDATES_PER_MINUTE = 50
_WRITES = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.startStream", "chat.appendStream",
           "chat.stopStream", "files.completeUploadExternal"}
_MASS_MENTIONS = ("<!channel", "<!here", "<!everyone", "<!subteam", "@channel", "@here", "@everyone")
APPEND_GAP_S = 0.8


@dataclass
class SlackMessage:
    channel: str
    ts: str
    thread_ts: str | None
    text: str = ""
    blocks: list = field(default_factory=list)
    markdown: str = ""  # a stream's accumulated markdown_text
    streaming: bool = False
    stream_closed: bool = False
    unfurl_off: bool = False
    updates: int = 0
    appends: int = 0

    def visible(self) -> str:
        """Everything a person would read: text or streamed markdown, plus the blocks' texts."""
        parts = [self.markdown or self.text]
        for block in self.blocks:
            if block.get("type") == "section":
                parts.append(block["text"]["text"])
            elif block.get("type") == "context":
                parts.extend(e.get("text", "") for e in block.get("elements", []))
            elif block.get("type") == "markdown":
                parts.append(block.get("text", ""))
        return "\n".join(p for p in parts if p)


@dataclass
class SlackState:
    messages: dict[tuple[str, str], SlackMessage] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    ephemeral: list[dict] = field(default_factory=list)
    statuses: list[dict] = field(default_factory=list)
    too_many_requests: int = 0
    rejected: list[str] = field(default_factory=list)
    streaming_supported: bool = True
    private_channels: set[str] = field(default_factory=set)
    group_dms: set[str] = field(default_factory=set)  # multi-person DMs (mpim): private to their members
    workspace_admins: set[str] = field(default_factory=set)  # users.info says is_admin for these
    files: dict[str, bytes] = field(default_factory=dict)
    said: list[dict] = field(default_factory=list)  # people's messages, as conversations.replies returns them
    uploads: dict[str, dict] = field(default_factory=dict)  # file id -> name, data, then channel and comment
    acks: list[str] = field(default_factory=list)
    update_stamps: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    last_append: dict[tuple[str, str], float] = field(default_factory=dict)
    clock: float = 1_700_000_000.0


class FakeSlack(FakePlatform):
    def __init__(self, team: str = "T1", clock: ScaledClock = TEST_CLOCK) -> None:
        self.team = team
        self.updates_per_minute = UPDATES_PER_MINUTE  # Tier 3; a test may lower it
        self.state = SlackState()
        self.revoked = False  # True: the app was uninstalled (its tokens revoked): every call is refused
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads some methods (users.info) with GET
        app.router.add_get("/link", self._socket)
        app.router.add_get("/files/{file_id}", self._file)
        app.router.add_post("/upload/{file_id}", self._upload)
        super().__init__(app, clock)

    @property
    def api_base(self) -> str:
        return f"{self.server.url}/api/"

    # -- what a test does as Slack ----------------------------------------------------------------

    def next_ts(self) -> str:
        self.state.clock += 1
        return f"{self.state.clock:.6f}"

    def event(self, event: dict, *, team: str | None = None, event_id: str | None = None) -> dict:
        """An Events API envelope around `event`."""
        team = team or self.team
        return {
            "token": "legacy", "team_id": team, "api_app_id": "AKBOT", "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()),
            "event": {"event_ts": event.get("ts"), **event},
            "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
        }

    def mention(self, channel: str, text: str, *, user: str = "U1", team: str | None = None,
                thread_ts: str | None = None, ts: str | None = None) -> dict:
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts or self.next_ts(),
                 "channel": channel, "team": team or self.team}
        if thread_ts:
            event["thread_ts"] = thread_ts
        self.state.said.append(event)
        return self.event(event, team=team)

    def message(self, channel: str, text: str, *, user: str = "U1", team: str | None = None,
                thread_ts: str | None = None, ts: str | None = None, channel_type: str = "channel") -> dict:
        event = {"type": "message", "user": user, "text": text, "ts": ts or self.next_ts(), "channel": channel,
                 "channel_type": channel_type, "team": team or self.team}
        if thread_ts:
            event["thread_ts"] = thread_ts
        self.state.said.append(event)
        return self.event(event, team=team)

    def share_file(self, channel: str, name: str, data: bytes, *, user: str = "U1", thread_ts: str | None = None,
                   channel_type: str = "im") -> dict:
        """A `file_share` message: a person shares a file with kbot (downloadable with the bot token)."""
        file_id = f"F{len(self.state.files) + 1}"
        self.state.files[file_id] = data
        envelope = self.message(channel, "", user=user, thread_ts=thread_ts, channel_type=channel_type)
        envelope["event"].update({"subtype": "file_share", "files": [{
            "id": file_id, "name": name, "size": len(data), "mimetype": "application/octet-stream",
            "url_private_download": f"{self.server.url}/files/{file_id}"}]})
        return envelope

    async def _file(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.Response(status=302, headers={"Location": "https://slack.com/signin"})
        data = self.state.files.get(request.match_info["file_id"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    def reaction(self, channel: str, ts: str, name: str, *, user: str = "U1") -> dict:
        """A person adds the reaction `name` (Slack's emoji name, e.g. "question") to a message."""
        return self.event({"type": "reaction_added", "user": user, "reaction": name, "item_user": "U1",
                           "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": self.next_ts()})

    def click(self, message: SlackMessage, action_id: str, value: str, *, user: str = "U1") -> dict:
        return {"type": "block_actions", "team": {"id": self.team}, "user": {"id": user, "team_id": self.team},
                "api_app_id": "AKBOT", "token": "legacy", "trigger_id": "tr1",
                "channel": {"id": message.channel}, "container": {"type": "message", "message_ts": message.ts,
                                                                    "channel_id": message.channel},
                "message": {"ts": message.ts, "text": message.text},
                "actions": [{"type": "button", "action_id": action_id, "block_id": "kbot_feedback",
                             "value": value, "action_ts": str(time.time())}]}

    def slash(self, channel: str, text: str, *, user: str = "U1", command: str = "/ask") -> dict:
        return {"token": "legacy", "team_id": self.team, "team_domain": "test", "channel_id": channel,
                "channel_name": "general", "user_id": user, "user_name": "ann", "command": command, "text": text,
                "api_app_id": "AKBOT", "response_url": f"{self.server.url}/response", "trigger_id": uuid.uuid4().hex}

    def deliver(self, envelope: dict, kind: str = "events_api", retry_attempt: int = 0) -> None:
        """Send one envelope over every open Socket Mode connection."""
        frame = {"envelope_id": uuid.uuid4().hex, "type": kind, "accepts_response_payload": kind != "events_api",
                 "payload": envelope, "retry_attempt": retry_attempt,
                 "retry_reason": "timeout" if retry_attempt else ""}

        async def send() -> None:
            for ws in list(self._sockets):
                await ws.send_str(json.dumps(frame))

        self.server.run(send())

    def drop_connections(self) -> None:
        """Close every Socket Mode connection, as Slack does before a reconnect (or after a revocation)."""
        async def close() -> None:
            for ws in list(self._sockets):
                await ws.close()

        self.server.run(close())

    def post_signed(self, url: str, envelope: dict, *, secret: str = SIGNING_SECRET, timestamp: str | None = None,
                    signature: str | None = None, retry_num: int | None = None) -> tuple[int, str]:
        """The Events API's HTTP delivery: a signed POST to the app's request URL."""
        return self._post_signed(url, json.dumps(envelope).encode(), secret=secret, timestamp=timestamp,
                                 signature=signature, retry_num=retry_num)

    def post_signed_raw(self, url: str, body: bytes) -> int:
        """A correctly signed POST of any bytes at all (what a buggy or hostile sender with the secret sends)."""
        return self._post_signed(url, body)[0]

    def _post_signed(self, url: str, body: bytes, *, secret: str = SIGNING_SECRET, timestamp: str | None = None,
                     signature: str | None = None, retry_num: int | None = None) -> tuple[int, str]:
        timestamp = timestamp if timestamp is not None else str(int(time.time()))
        if signature is None:
            base = f"v0:{timestamp}:".encode() + body
            signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": signature}
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})

        async def post() -> tuple[int, str]:
            async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as r:
                return r.status, await r.text()

        return self.server.run(post())

    def thread_replies(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return sorted((m for m in self.state.messages.values() if m.channel == channel and m.thread_ts == thread_ts),
                      key=lambda m: m.ts)

    def method_calls(self, name: str) -> list[dict]:
        return [p for m, p in self.state.calls if m == name]

    # -- Socket Mode ------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self._sockets),
                                      "connection_info": {"app_id": "AKBOT"}}))
        try:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.state.acks.append(json.loads(message.data).get("envelope_id", ""))
        finally:
            self._sockets.remove(ws)
        return ws

    # -- Web API ----------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query)
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params: dict[str, Any] = dict(request.query)  # slack_sdk sends some methods' arguments as a query string
        for key, value in form.items():
            if isinstance(value, str) and key in ("blocks", "metadata", "chunks") and value.startswith("["):
                params[key] = json.loads(value)
            else:
                params[key] = value
        return params

    def _error(self, error: str, status: int = 200, **headers: str) -> web.Response:
        return web.json_response({"ok": False, "error": error}, status=status, headers=headers)

    def _reject(self, error: str) -> web.Response:
        self.state.rejected.append(error)
        return self._error(error)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        params = await self._params(request)
        token = token or str(params.get("token", ""))
        self.state.calls.append((method, params))
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected or self.revoked:
            return self._error("token_revoked" if self.revoked else "invalid_auth")
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return self._error("unknown_method")
        if method in _WRITES:
            self._audit(method, params)
        return await handler(params)

    def _audit(self, method: str, p: dict) -> None:
        """The community rule for every write: no unfurls on new messages, no mass mention in any text."""
        self.writes_checked += 1
        shown = " ".join(str(p.get(k) or "") for k in ("text", "markdown_text", "initial_comment"))
        shown += json.dumps(self._blocks(p))
        for mention in _MASS_MENTIONS:
            if mention in shown:
                self.violation(f"{method}: mass mention {mention}")
        if method == "chat.postMessage" and not (str(p.get("unfurl_links")).lower() == "false"
                                                 and str(p.get("unfurl_media")).lower() == "false"):
            self.violation("chat.postMessage without unfurl_links=false and unfurl_media=false")

    async def _auth_test(self, _p: dict) -> web.Response:
        return web.json_response({"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "kbot",
                                  "team_id": self.team, "user_id": BOT_USER, "bot_id": BOT_ID})

    async def _apps_connections_open(self, _p: dict) -> web.Response:
        return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.server.port}/link"})

    async def _conversations_info(self, p: dict) -> web.Response:
        channel = p["channel"]
        mpim = channel in self.state.group_dms
        private = channel in self.state.private_channels or mpim
        return web.json_response({"ok": True, "channel": {
            "id": channel, "is_private": private, "is_im": channel.startswith("D"), "is_mpim": mpim,
            "is_channel": not private and not channel.startswith("D"), "is_group": private}})

    async def _conversations_open(self, p: dict) -> web.Response:
        return web.json_response({"ok": True, "channel": {"id": f"D{p['users']}"}})

    async def _files_getUploadURLExternal(self, p: dict) -> web.Response:  # noqa: N802
        file_id = f"F{len(self.state.uploads) + 100}"
        self.state.uploads[file_id] = {"name": p.get("filename"), "length": int(p.get("length") or 0)}
        return web.json_response({"ok": True, "file_id": file_id,
                                  "upload_url": f"{self.server.url}/upload/{file_id}"})

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of files_upload_v2: the bytes, POSTed to the URL step 1 gave."""
        upload = self.state.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404)
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            field = next(iter(form.values()))
            upload["data"] = field.file.read() if hasattr(field, "file") else str(field).encode()
        else:
            upload["data"] = await request.read()
        return web.Response(text="OK - " + str(len(upload["data"])))

    async def _files_completeUploadExternal(self, p: dict) -> web.Response:  # noqa: N802
        files = p.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        for item in files:
            upload = self.state.uploads.get(item["id"])
            if upload is None or "data" not in upload:
                return self._error("file_not_found")
            upload.update(channel=p.get("channel_id"), comment=p.get("initial_comment"), title=item.get("title"))
        return web.json_response({"ok": True, "files": [{"id": item["id"]} for item in files]})

    async def _chat_getPermalink(self, p: dict) -> web.Response:  # noqa: N802
        return web.json_response({"ok": True, "channel": p["channel"],
                                  "permalink": f"https://test.slack.com/archives/{p['channel']}/p"
                                               f"{str(p['message_ts']).replace('.', '')}"})

    async def _conversations_replies(self, p: dict) -> web.Response:
        """The thread's parent and replies, oldest first: people's messages and kbot's."""
        channel, root = p["channel"], str(p["ts"])
        for known in [*self.state.said, *({"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts}
                                          for m in self.state.messages.values())]:
            if known["channel"] == channel and known["ts"] == root and known.get("thread_ts"):
                root = str(known["thread_ts"])  # a reply's ts: Slack answers with its whole thread
        people = [{"type": "message", "user": e["user"], "text": e["text"], "ts": e["ts"], "thread_ts": root}
                  for e in self.state.said if e["channel"] == channel and root in (e["ts"], e.get("thread_ts"))]
        kbot = [{"type": "message", "bot_id": BOT_ID, "text": m.markdown or m.text, "ts": m.ts, "thread_ts": root}
                for m in self.state.messages.values() if m.channel == channel and m.thread_ts == root]
        found = sorted({m["ts"]: m for m in people + kbot}.values(), key=lambda m: float(m["ts"]))
        return web.json_response({"ok": True, "messages": found[: int(p.get("limit") or 1000)], "has_more": False})

    async def _users_info(self, p: dict) -> web.Response:
        user = p["user"]
        return web.json_response({"ok": True, "user": {"id": user, "team_id": self.team, "name": user.lower(),
                                                       "profile": {"display_name": f"person {user}"},
                                                       "is_admin": user in self.state.workspace_admins,
                                                       "is_owner": False}})

    async def _assistant_threads_setStatus(self, p: dict) -> web.Response:  # noqa: N802 (Slack's name)
        self.state.statuses.append(p)
        return web.json_response({"ok": True})

    async def _chat_postEphemeral(self, p: dict) -> web.Response:  # noqa: N802
        self.state.ephemeral.append(p)
        return web.json_response({"ok": True, "message_ts": self.next_ts()})

    def _check(self, p: dict) -> str | None:
        text = p.get("text") or ""
        if len(text) > 40_000:
            return "msg_too_long"
        if len(p.get("markdown_text") or "") > 12_000:
            return "markdown_text_too_long"
        blocks = p.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if len(blocks) > 50:
            return "invalid_blocks: more than 50 blocks"
        for block in blocks:
            if block.get("type") == "section" and len(block.get("text", {}).get("text", "")) > 3000:
                return "invalid_blocks: section text over 3000 characters"
            if block.get("type") == "context" and len(block.get("elements", [])) > 10:
                return "invalid_blocks: more than 10 context elements"
        for mention in ("<!channel>", "<!here>", "<!everyone>", "@channel", "@here", "@everyone"):
            if mention in text or mention in (p.get("markdown_text") or "") or mention in json.dumps(blocks):
                return f"mass mention sent: {mention}"
        if not text and not blocks and not p.get("markdown_text"):
            return "no_text"
        return None

    def _blocks(self, p: dict) -> list:
        blocks = p.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    async def _chat_postMessage(self, p: dict) -> web.Response:  # noqa: N802
        problem = self._check(p)
        if problem:
            return self._reject(problem)
        ts = self.next_ts()
        off = str(p.get("unfurl_links")).lower() == "false" and str(p.get("unfurl_media")).lower() == "false"
        message = SlackMessage(p["channel"], ts, p.get("thread_ts"), p.get("text") or "", self._blocks(p),
                               unfurl_off=off)
        self.state.messages[(p["channel"], ts)] = message
        return web.json_response({"ok": True, "channel": p["channel"], "ts": ts, "message": {"text": message.text}})

    def _tier3(self) -> bool:
        stamps = self.state.update_stamps[self.team]
        now = self.clock.monotonic()
        while stamps and now - stamps[0] >= 60:
            stamps.popleft()
        if len(stamps) >= self.updates_per_minute:
            self.state.too_many_requests += 1
            return False
        stamps.append(now)
        return True

    async def _chat_update(self, p: dict) -> web.Response:
        message = self.state.messages.get((p["channel"], p["ts"]))
        if message is None:
            return self._reject("message_not_found")
        problem = self._check(p)
        if problem:
            return self._reject(problem)
        if not self._tier3():
            return self._error("ratelimited", 429, **{"Retry-After": "5"})
        message.text = p.get("text") or message.text
        message.blocks = self._blocks(p)
        if message.streaming:
            message.markdown = ""
        message.updates += 1
        return web.json_response({"ok": True, "channel": p["channel"], "ts": p["ts"], "text": message.text})

    async def _chat_startStream(self, p: dict) -> web.Response:  # noqa: N802
        if not self.state.streaming_supported:
            return self._error("method_not_supported_for_channel_type")
        if not p.get("thread_ts"):
            return self._reject("invalid_arguments: thread_ts required")
        if p["channel"].startswith("C") and not (p.get("recipient_team_id") and p.get("recipient_user_id")):
            return self._reject("invalid_arguments: recipient required in channels")
        problem = self._check({**p, "text": "-"})
        if problem:
            return self._reject(problem)
        ts = self.next_ts()
        message = SlackMessage(p["channel"], ts, p["thread_ts"], markdown=p.get("markdown_text") or "",
                               streaming=True, unfurl_off=True)
        self.state.messages[(p["channel"], ts)] = message
        self.state.last_append[(p["channel"], ts)] = self.clock.monotonic()
        return web.json_response({"ok": True, "channel": p["channel"], "ts": ts})

    async def _chat_appendStream(self, p: dict) -> web.Response:  # noqa: N802
        message = self.state.messages.get((p["channel"], p["ts"]))
        if message is None or not message.streaming or message.stream_closed:
            return self._reject("message_not_in_streaming_state")
        if len(message.markdown) + len(p.get("markdown_text") or "") > 12_000:
            return self._reject("markdown_text_too_long")
        now = self.clock.monotonic()
        if now - self.state.last_append[(p["channel"], p["ts"])] < APPEND_GAP_S:
            self.state.too_many_requests += 1
            return self._error("ratelimited", 429, **{"Retry-After": "1"})
        self.state.last_append[(p["channel"], p["ts"])] = now
        message.markdown += p.get("markdown_text") or ""
        message.appends += 1
        return web.json_response({"ok": True, "channel": p["channel"], "ts": p["ts"]})

    async def _chat_stopStream(self, p: dict) -> web.Response:  # noqa: N802
        message = self.state.messages.get((p["channel"], p["ts"]))
        if message is None or not message.streaming or message.stream_closed:
            return self._reject("message_not_in_streaming_state")
        problem = self._check({**p, "text": "-"})
        if problem:
            return self._reject(problem)
        if len(message.markdown) + len(p.get("markdown_text") or "") > 12_000:
            return self._reject("markdown_text_too_long")
        message.markdown += p.get("markdown_text") or ""
        message.blocks = self._blocks(p)
        message.stream_closed = True
        return web.json_response({"ok": True, "channel": p["channel"], "ts": p["ts"]})
