"""Slack adapter (slack-bolt): events in by Socket Mode or signed HTTP, `Incoming` out; a reply port that
streams natively (chat.startStream/appendStream/stopStream) and falls back to chat.update edits,
drawing on one Tier 3 budget per workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.formatting import defuse_mentions, slack_escape, to_slack_mrkdwn
from bot.adapters.slack_commands import SlackCommands
from bot.config import SlackSettings
from bot.feedback import parse_vote
from bot.jobs import JobView
from bot.messages import Answer, Incoming, PortLimits, ThreadKey
from bot.scopes import visible_scopes
from bot.service import QuestionService
from bot.streaming import EditBudget, EditBudgets, split_text

log = logging.getLogger("kbot.slack")

PLATFORM = "slack"
MAX_LENGTH = 11_000  # under markdown_text's 12,000, leaving room for escaping
SECTION_LIMIT = 3000
THINKING = "is thinking…"
_MENTION = re.compile(r"<@[A-Z0-9]+>")
_SOURCES = "\n\nSources:\n"
_FEEDBACK = re.compile(r"^kbot_feedback_(up|down)$")
PUBLIC_CACHE_S = 60.0  # how long a channel's "public" answer from conversations.info is reused
_PRIVATE_TYPES = {"channel": False, "group": True, "im": True, "mpim": True}  # an event's channel_type


def _readable_body(raw: bytes, content_type: str) -> str | None:
    """The body as text when it is what Slack sends (a JSON object, or a form with an optional JSON
    `payload` object); None for anything else."""
    try:
        text = raw.decode("utf-8")
        if content_type == "application/json" or text.lstrip().startswith(("{", "[")):
            return text if isinstance(json.loads(text), dict) else None
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return text if payload is None or isinstance(json.loads(payload), dict) else None
    except ValueError:  # bad UTF-8 or bad JSON
        return None


def _plain(text: str) -> str:
    """Intermediate text: no markup, no pings."""
    return slack_escape(defuse_mentions(text))


def final_blocks(part: str, reply_id: str | None) -> list[dict[str, Any]]:
    """Sections for the answer, a context block for its sources, and 👍/👎 (on the last part)."""
    body, _, sources = part.partition(_SOURCES)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in split_text(to_slack_mrkdwn(body), SECTION_LIMIT) if chunk.strip()
    ]
    if sources:
        lines = [to_slack_mrkdwn(line) for line in sources.splitlines() if line.strip()]
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": "*Sources*\n" + "\n".join(lines)[:2900]}]})
    if reply_id:
        blocks.append(feedback_actions(reply_id))
    return blocks


def feedback_actions(reply_id: str) -> dict[str, Any]:
    return {"type": "actions", "block_id": "kbot_feedback", "elements": [
        {"type": "button", "action_id": "kbot_feedback_up", "value": reply_id, "text": {"type": "plain_text",
                                                                                       "text": "👍"}},
        {"type": "button", "action_id": "kbot_feedback_down", "value": reply_id, "text": {"type": "plain_text",
                                                                                         "text": "👎"}},
    ]}


class SlackPort:
    """One answer in one thread."""

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
        self.streamed: list[str] = []  # native mode: the markdown already appended to each part's stream
        self.texts: list[str] = []
        self.closed: set[int] = set()  # native mode: parts whose stream has been stopped

    @property
    def limits(self) -> PortLimits:
        return PortLimits(max_length=MAX_LENGTH, min_edit_interval_s=1.0 if self.native else 1.5,
                          native_stream=self.native)

    @property
    def edit_budget(self) -> EditBudget | None:
        return None if self.native else self.budget  # appends are not chat.update calls

    post_budget = None  # chat.postMessage is not in chat.update's tier

    async def start(self) -> None:
        # Only assistant threads have a status; elsewhere the streamed reply itself shows progress.
        with contextlib.suppress(SlackApiError):
            await self.client.assistant_threads_setStatus(channel_id=self.channel, thread_ts=self.thread_ts,
                                                          status=THINKING)

    async def _post(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        response = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text,
                                                      blocks=blocks, unfurl_links=False, unfurl_media=False)
        self.ts.append(str(response["ts"]))
        self.texts.append(text)

    async def _start_stream(self, text: str) -> bool:
        try:
            response = await self.client.chat_startStream(
                channel=self.channel, thread_ts=self.thread_ts, markdown_text=_plain(text),
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
        text = text.removesuffix(" …") if self.native else text
        try:
            if self.native and index == len(self.ts):
                if index > 0:
                    await self._stop_stream(index - 1, self.texts[index - 1], None)
                if await self._start_stream(text):
                    return
            if self.native:
                done = self.streamed[index]
                if text.startswith(done) and len(text) > len(done):
                    await self.client.chat_appendStream(channel=self.channel, ts=self.ts[index],
                                                        markdown_text=_plain(text[len(done):]))
                    self.streamed[index] = text
                self.texts[index] = text
            elif index == len(self.ts):
                await self._post(_plain(text))
            else:
                await self.client.chat_update(channel=self.channel, ts=self.ts[index], text=_plain(text))
                self.texts[index] = text
        except SlackApiError as exc:  # an intermediate update is best effort
            log.warning("slack: intermediate update failed: %s", exc.response.get("error"))

    async def _stop_stream(self, index: int, part: str, reply_id: str | None) -> None:
        body, _, _ = part.partition(_SOURCES)
        done = self.streamed[index]
        if index in self.closed:  # stopped when the answer moved on to the next part
            if body != done or reply_id:
                await self.budget.take()
                await self.client.chat_update(channel=self.channel, ts=self.ts[index], text=_plain(part),
                                              blocks=final_blocks(part, reply_id))
            return
        self.closed.add(index)
        rest = body[len(done):] if body.startswith(done) else ""
        blocks = [b for b in final_blocks(part, reply_id) if b["type"] != "section"]
        await self.client.chat_stopStream(channel=self.channel, ts=self.ts[index],
                                          markdown_text=_plain(rest) or None, blocks=blocks or None)
        self.streamed[index] = body
        if not body.startswith(done):  # the split moved: rewrite the message whole
            await self.budget.take()
            await self.client.chat_update(channel=self.channel, ts=self.ts[index], text=_plain(part),
                                          blocks=final_blocks(part, reply_id))

    async def finish(self, parts: list[str], answer: Answer) -> None:
        for index, part in enumerate(parts):
            reply_id = answer.reply_id if index == len(parts) - 1 else None
            blocks = final_blocks(part, reply_id)
            fallback = to_slack_mrkdwn(part)
            if index < len(self.ts) and index < len(self.streamed):
                await self._stop_stream(index, part, reply_id)
            elif index < len(self.ts):
                await self.budget.take()
                await self.client.chat_update(channel=self.channel, ts=self.ts[index], text=fallback, blocks=blocks)
                self.budget.settle()
            else:
                await self._post(fallback, blocks)

    async def fail(self, message: str) -> None:
        notice = f"⚠️ {message}"
        if self.ts and len(self.streamed) == len(self.ts) and len(self.ts) - 1 not in self.closed:
            self.closed.add(len(self.ts) - 1)
            await self.client.chat_stopStream(channel=self.channel, ts=self.ts[-1], markdown_text=f"\n\n{notice}")
        elif self.ts:
            await self.budget.take()
            await self.client.chat_update(channel=self.channel, ts=self.ts[-1],
                                          text=f"{_plain(self.texts[-1].removesuffix(' …'))}\n\n{notice}")
        else:
            await self._post(notice)


class SlackAdapter:
    name = PLATFORM

    def __init__(self, settings: SlackSettings, bot_token: str, service: QuestionService,
                 app_token: SecretStr | None, signing_secret: SecretStr | None,
                 max_file_bytes: int = 25_000_000, public_uploads: str = "workspace") -> None:
        self.settings = settings
        self.service = service
        self._bot_token = bot_token
        self.client = AsyncWebClient(token=bot_token, base_url=settings.base_url or AsyncWebClient.BASE_URL)
        # If Slack still says 429 (another app on the workspace spends the same tier), wait Retry-After.
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self._identity: Any = None
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret.get_secret_value()
                            if signing_secret else None, request_verification_enabled=settings.mode == "http",
                            process_before_response=False, authorize=self._authorizer())
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.action(_FEEDBACK)(self._on_feedback)
        self.app.command("/ask")(self._on_ask)
        self.app.command("/kb")(self._on_kb)
        self._app_token = app_token.get_secret_value() if app_token else None
        self._signing_secret = signing_secret.get_secret_value().encode() if signing_secret else None
        self._socket: AsyncSocketModeHandler | None = None
        self._http: web.AppRunner | None = None
        self.http_port: int | None = None
        self.budgets = EditBudgets(settings.edits_per_minute, 60.0)  # chat.update is Tier 3 per workspace
        self._public_until: dict[str, float] = {}  # channel -> until when its "public" answer is reused
        self._session: aiohttp.ClientSession | None = None
        self.commands = SlackCommands(self.client, service, self.budgets, settings.admins, bot_token, max_file_bytes,
                                      public_uploads)
        self.bot_user: str | None = None
        self._receiving = False

    @property
    def connected(self) -> bool:
        if not self._receiving:
            return False
        if self._socket is not None:
            session = self._socket.client.current_session
            return session is not None and not session.closed
        return self._http is not None

    async def ready(self) -> bool:
        return self.connected

    def _authorizer(self) -> Any:
        """One auth.test at start-up serves every event (bolt's default asks again while its cache is cold)."""

        async def authorize(team_id: str | None = None) -> AuthorizeResult:  # bolt passes arguments by name
            if self._identity is None:
                self._identity = await self.client.auth_test()
            return AuthorizeResult.from_auth_test_response(bot_token=self._bot_token,
                                                           auth_test_response=self._identity)

        return authorize

    async def start(self) -> None:
        # One HTTP session for every Web API call: slack_sdk otherwise opens a connection per call.
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        identity = self._identity = await self.client.auth_test()
        self.bot_user = identity.get("user_id")
        if identity.get("team_id"):  # the workspace that installed the app may use it
            self.service.gate.access.trust(PLATFORM, str(identity["team_id"]))
        if self.settings.mode == "socket":
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            await self._socket.connect_async()
        else:
            web_app = web.Application()
            web_app.router.add_post(self.settings.http_path, self._on_http)
            self._http = web.AppRunner(web_app, access_log=None)
            await self._http.setup()
            site = web.TCPSite(self._http, self.settings.http_host, self.settings.http_port)
            await site.start()
            self.http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._receiving = True
        log.info("slack: connected as %s (%s mode)", identity.get("user"), self.settings.mode)

    async def _on_http(self, request: web.Request) -> web.Response:
        """Signed requests only (401 otherwise); a signed body that is not an event or a payload is a 400."""
        if not self._receiving:
            return web.Response(status=503, text="kbot is restarting")
        raw = await request.read()
        if not self._signed(raw, request.headers.get("X-Slack-Request-Timestamp", ""),
                            request.headers.get("X-Slack-Signature", "")):
            return web.Response(status=401, text="invalid request")
        text = _readable_body(raw, request.content_type)
        if text is None:
            return web.Response(status=400, text="the body is not a Slack event or payload")
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string,
                                        headers=request.headers)  # type: ignore[arg-type]
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    def _signed(self, raw: bytes, stamp: str, signature: str) -> bool:
        """Slack's v0 signature over the raw bytes, compared in constant time; at most 5 minutes old."""
        if self._signing_secret is None or not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return False
        expected = "v0=" + hmac.new(self._signing_secret, b"v0:" + stamp.encode() + b":" + raw,
                                    hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode())

    async def stop_receiving(self) -> None:
        self._receiving = False
        if self._socket is not None:
            await self._socket.disconnect_async()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._http is not None:
            await self._http.cleanup()
            self._http = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- translation in -------------------------------------------------------------------------------

    async def _is_private(self, channel: str, channel_type: str | None = None, fresh: bool = False) -> bool:
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

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        await self._question(body, event)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        subtype = event.get("subtype")
        if (subtype and subtype != "file_share") or event.get("bot_id") or event.get("user") in (None, self.bot_user):
            return
        team, channel = str(body.get("team_id")), str(event["channel"])
        thread_ts = event.get("thread_ts")
        known = thread_ts is not None and await asyncio.to_thread(
            self.service.conversation.memory.knows, ThreadKey(PLATFORM, team, channel, str(thread_ts)))
        if event.get("channel_type") != "im" and not known:
            return  # in channels: only threads kbot answers in (mentions come as app_mention)
        if subtype == "file_share":
            if await self.service.claim(PLATFORM, f"{team}:{channel}:{event['ts']}"):
                private = await self._is_private(channel, event.get("channel_type"), fresh=True)
                await self.commands.files(team, event, visible_scopes(PLATFORM, team, channel, private), private)
            return
        await self._question(body, event)

    async def _on_kb(self, ack: Any, command: dict[str, Any]) -> None:
        await ack()
        if not await self.service.claim(PLATFORM, f"command:{command.get('trigger_id')}"):
            return
        team, channel = str(command.get("team_id")), str(command.get("channel_id"))
        private = await self._is_private(channel, fresh=True)  # a command may upload: never a stale answer
        await self.commands.slash(command, visible_scopes(PLATFORM, team, channel, private), private)

    async def show_job(self, view: JobView) -> None:
        await self.commands.show_job(view)

    async def _incoming(self, team: str, channel: str, thread_ts: str, user: str, text: str, body: dict[str, Any],
                        channel_type: str | None = None) -> Incoming:
        private = await self._is_private(channel, channel_type)
        return Incoming(
            key=ThreadKey(PLATFORM, team, channel, thread_ts), author=user, text=text,
            scopes=visible_scopes(PLATFORM, team, channel, private), is_admin=user in self.settings.admins, raw=body,
            operator=user in self.settings.admins, place_name=str(body.get("team_domain") or team),
        )

    async def _question(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        team = str(body.get("team_id") or event.get("team"))
        channel = str(event["channel"])
        ts = str(event["ts"])
        if not await self.service.claim(PLATFORM, f"{team}:{channel}:{ts}"):
            return  # a retry, or the `message` twin of an `app_mention`
        text = _MENTION.sub("", event.get("text") or "").strip()
        thread_ts = str(event.get("thread_ts") or ts)
        user = str(event.get("user"))
        port_args = (self.client, team, channel, thread_ts, user, self.budgets[team], self.settings.native_streaming)
        incoming = await self._incoming(team, channel, thread_ts, user, text, body, event.get("channel_type"))
        if not text:
            admission = await self.service.admit(incoming)  # even the hint is only for places kbot serves
            if admission.incoming is not None or admission.reply:
                await SlackPort(*port_args).fail(admission.reply or
                                                 "Ask me a question after the mention, e.g. @kbot how many vacation "
                                                 "days do we get?")
            return
        self.service.submit(incoming, lambda: SlackPort(*port_args))

    async def _on_ask(self, ack: Any, command: dict[str, Any]) -> None:
        """`/ask question`: slash commands have no thread, so the question is posted and answered under it."""
        question = str(command.get("text") or "").strip()
        if not question:
            await ack("Ask a question after /ask, e.g. /ask how many vacation days do we get?")
            return
        await ack()
        team, channel, user = str(command.get("team_id")), str(command.get("channel_id")), str(command.get("user_id"))
        if not await self.service.claim(PLATFORM, f"command:{command.get('trigger_id')}"):
            return
        # The question is echoed into the channel only once the gate has let it through.
        admission = await self.service.admit(await self._incoming(team, channel, "ask", user, question, command))
        if admission.incoming is None:
            if admission.reply:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=_plain(admission.reply))
            return
        try:
            posted = await self.client.chat_postMessage(
                channel=channel, text=f"<@{user}> asked: {_plain(question)}", unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            log.warning("slack: /ask could not post the question: %s", exc.response.get("error"))
            await self.client.chat_postEphemeral(channel=channel, user=user, text=(
                "I can't post in this channel. Invite me with /invite @kbot, or mention me instead."))
            return
        thread_ts = str(posted["ts"])
        incoming = replace(admission.incoming, key=ThreadKey(PLATFORM, team, channel, thread_ts))
        port_args = (self.client, team, channel, thread_ts, user, self.budgets[team], self.settings.native_streaming)
        self.service.submit(incoming, lambda: SlackPort(*port_args), admitted=True)

    async def _on_feedback(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        vote = parse_vote(str(action.get("action_id", "")).rsplit("_", 1)[-1])
        user = str(body.get("user", {}).get("id"))
        channel = str(body.get("channel", {}).get("id"))
        if vote is None:
            return
        thanks = await self.service.vote(PLATFORM, str(action.get("value")), user, vote)
        thread_ts = body.get("message", {}).get("thread_ts")
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=thanks, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("slack: could not acknowledge feedback: %s", exc.response.get("error"))
