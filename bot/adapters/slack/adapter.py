"""The Slack adapter: a Bolt app (Socket Mode, or signed HTTP events on kbot's own aiohttp server)
with one listener per kind of event, over one slack_sdk Web API client and HTTP session."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.admins import AdminRule
from bot.adapters.context import PlatformContext
from bot.adapters.slack.commands import SlackCommands
from bot.adapters.slack.doctor import RevokedTokenFilter, cannot_start, diagnose
from bot.adapters.slack.events import PLATFORM, SlackEvents, media_of, question_text
from bot.adapters.slack.port import WHY_ACTION, SlackPort, plain
from bot.adapters.slack.private import SHARE_ACTION, SlackPrivatePort, parse_share
from bot.adapters.slack.settings import SlackSettings
from bot.adapters.unsupported import unsupported_note
from bot.chat import commands as kb_commands
from bot.core.checks import Finding
from bot.core.jobs import JobView
from bot.core.messages import ThreadKey
from bot.core.pacing import EditBudgets
from bot.core.reactions import reaction_kind
from bot.core.requests import Place
from bot.ops.http_server import start_site
from bot.state.explanations import UNKNOWN
from bot.state.feedback import parse_vote

T = TypeVar("T")
log = logging.getLogger("kbot.slack")

FEEDBACK = re.compile(r"^kbot_feedback_(up|down)$")
EMPTY_MENTION = "Ask me a question after the mention, e.g. @kbot how many vacation days do we get?"
EMPTY_ASK = "Ask a question after /ask, e.g. /ask how many vacation days do we get?"
UPLOAD_HINT = "share it with me in a direct message, or in a thread I'm answering in"
CANNOT_POST = "I can't post in this channel. Invite me with /invite @kbot, or mention me instead."


def is_slack_body(text: str, content_type: str) -> bool:
    """What Slack sends: a JSON object, or a form with an optional JSON `payload` object."""
    try:
        if content_type == "application/json" or text.lstrip().startswith(("{", "[")):
            return isinstance(json.loads(text), dict)
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return payload is None or isinstance(json.loads(payload), dict)
    except ValueError:  # bad JSON
        return False


class SlackAdapter:
    name = PLATFORM

    def __init__(self, settings: SlackSettings, bot_token: str, context: PlatformContext) -> None:
        self.settings = settings
        self.service = context.service
        self._bot_token = bot_token
        self.client = AsyncWebClient(token=bot_token, base_url=settings.base_url or AsyncWebClient.BASE_URL)
        # If Slack still says 429 (another app on the workspace spends the same tier), wait Retry-After.
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self._identity: Any = None
        signing_secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        # Signed HTTP requests are verified once, in _on_http, before their body is parsed.
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._app_token = settings.app_token.get_secret_value() if settings.app_token else None
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret,
                            request_verification_enabled=False, process_before_response=False,
                            authorize=self._authorizer())
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.event("reaction_added")(self._on_reaction)
        self.app.action(FEEDBACK)(self._on_feedback)
        self.app.action(WHY_ACTION)(self._on_why)
        self.app.action(SHARE_ACTION)(self._on_share)
        self.app.command("/ask")(self._on_ask)
        self.app.command("/kb")(self._on_kb)
        # chat.update is Tier 3 per workspace
        self.budgets = EditBudgets(settings.edits_per_minute, 60.0, context.clock)
        self.events = SlackEvents(self.client, AdminRule(frozenset(settings.admins)))
        self.commands = SlackCommands(self.client, self.service, self.events, self.budgets, bot_token,
                                      context.max_file_bytes, context.public_uploads)
        self._socket: AsyncSocketModeHandler | None = None
        self._http: web.AppRunner | None = None
        self.http_port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self.bot_user: str | None = None
        self._receiving = False
        # The Socket Mode client's own logger: a token Slack refuses while running is said once.
        self._socket_log = logging.getLogger("kbot.slack.socket")
        RevokedTokenFilter.install(self._socket_log, self._token_revoked)
        self._revocation_said = False

    # -- lifecycle -------------------------------------------------------------------------------------

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
        identity = self._identity = await self._say_no_in_one_line(self.client.auth_test(), "slack.bot_token")
        self.bot_user = identity.get("user_id")
        if identity.get("team_id"):  # the workspace that installed the app may use it
            self.service.trust(PLATFORM, str(identity["team_id"]))
        if self.settings.mode == "socket":
            self._socket = AsyncSocketModeHandler(self.app, self._app_token, logger=self._socket_log)
            await self._say_no_in_one_line(self._socket.connect_async(), "slack.app_token")
        else:
            web_app = web.Application()
            web_app.router.add_post(self.settings.http_path, self._on_http)
            self._http, self.http_port = await start_site(web_app, self.settings.http_host,
                                                                 self.settings.http_port, "slack.http_port")
        self._receiving = True
        log.info("slack: connected as %s (%s mode)", identity.get("user"), self.settings.mode)

    async def _say_no_in_one_line(self, call: Awaitable[T], token_setting: str) -> T:
        """A refused token or an unreachable API as one CannotStart naming the setting to fix."""
        try:
            return await call
        except Exception as exc:
            refused = cannot_start(exc, token_setting, self.settings.base_url)
            if refused is None:
                raise
            raise refused from None

    def _token_revoked(self, error: str) -> None:
        self._receiving = False  # /readyz says so
        if not self._revocation_said:
            self._revocation_said = True
            log.error("slack: Slack refused the app's token while kbot was running (%s): Slack receives nothing "
                      "until slack.app_token and slack.bot_token are valid again and kbot restarted; the other "
                      "platforms go on", error)

    async def diagnose(self) -> list[Finding]:
        async with aiohttp.ClientSession() as session:  # closed with the checks
            self.client.session = session
            return await diagnose(self.client, self.settings, self._app_token)

    async def _on_http(self, request: web.Request) -> web.Response:
        """Signed requests only (401 otherwise); a signed body that is not an event or a payload is a 400."""
        if not self._receiving:
            return web.Response(status=503, text="kbot is restarting")
        try:
            text = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:  # no Slack request, signed or not
            return web.Response(status=400, text="the body is not a Slack event or payload")
        if not self._signed(text, request.headers):
            return web.Response(status=401, text="invalid request")
        if not is_slack_body(text, request.content_type):
            return web.Response(status=400, text="the body is not a Slack event or payload")
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    def _signed(self, body: str, headers: Mapping[str, str]) -> bool:
        """Slack's v0 signature, at most 5 minutes old, checked by slack_sdk's verifier."""
        stamp = headers.get("X-Slack-Request-Timestamp", "")
        if self._verifier is None or not stamp.lstrip("-").isdigit():
            return False
        return self._verifier.is_valid(body, stamp, headers.get("X-Slack-Signature"))

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

    async def show_job(self, view: JobView) -> None:
        await self.commands.show_job(view)

    async def post_report(self, channel: str, text: str, image: bytes) -> None:
        """The coverage digest: its chart as an uploaded image, its text as the upload's comment;
        `@U…` is a person, written to in their DM with kbot."""
        if channel.startswith("@"):
            opened = await self.client.conversations_open(users=channel[1:])
            channel = str(opened["channel"]["id"])
        await self.client.files_upload_v2(channel=channel, file=image, filename="kbot-digest.png",
                                          title="kbot digest", initial_comment=plain(text))

    # -- listeners -------------------------------------------------------------------------------------

    def _port(self, team: str, channel: str, thread_ts: str, user: str) -> SlackPort:
        return SlackPort(self.client, team, channel, thread_ts, user, self.budgets[team],
                         self.settings.native_streaming)

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        await self._question(body, event)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """DMs, files shared with kbot, and messages in threads kbot answers in (channel mentions come
        as app_mention)."""
        subtype = event.get("subtype")
        if (subtype and subtype != "file_share") or event.get("bot_id") or event.get("user") in (None, self.bot_user):
            return
        team, channel = str(body.get("team_id")), str(event["channel"])
        thread_ts = event.get("thread_ts")
        known = thread_ts is not None and await self.service.knows_thread(
            ThreadKey(PLATFORM, team, channel, str(thread_ts)))
        if event.get("channel_type") != "im" and not known:
            return
        if subtype == "file_share":
            if await self.service.claim(PLATFORM, f"{team}:{channel}:{event['ts']}"):
                await self.commands.files(team, event)
            return
        await self._question(body, event)

    async def _on_reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """❓ on a person's message: kbot answers it in its thread, once however many react. ✅ by an
        admin on kbot's answer: the thread is saved (as `kb save` there would)."""
        kind = reaction_kind(event.get("reaction"))
        item = event.get("item") or {}
        if kind is None or item.get("type") != "message" or event.get("user") in (None, self.bot_user):
            return
        team, channel, ts, user = str(body.get("team_id")), str(item["channel"]), str(item["ts"]), str(event["user"])
        if kind == "save" and not await self.events.admins.admin(user, lambda: self.events.platform_admin(user)):
            return
        if kind == "ask" and not await self.service.claim(PLATFORM, f"ask:{team}:{channel}:{ts}"):
            return
        message = await self.commands.message_at(channel, ts)
        if message is None or bool(message.get("bot_id")) != (kind == "save"):
            return  # ❓ is for people's messages, ✅ for kbot's answers
        thread_ts = str(message.get("thread_ts") or ts)
        if kind == "save":
            await self.commands.typed(team, {"channel": channel, "ts": ts, "thread_ts": thread_ts, "user": user},
                                      "save", "")
            return
        text = question_text(message)
        if not text:
            return
        incoming = await self.events.incoming(team, channel, thread_ts, user, text, body)
        self.service.submit(incoming, lambda: self._port(team, channel, thread_ts, user))

    async def _on_kb(self, ack: Any, command: dict[str, Any]) -> None:
        await ack()
        if await self.service.claim(PLATFORM, f"command:{command.get('trigger_id')}"):
            await self.commands.slash(command)

    async def _question(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        team = str(body.get("team_id") or event.get("team"))
        channel, ts = str(event["channel"]), str(event["ts"])
        if not await self.service.claim(PLATFORM, f"{team}:{channel}:{ts}"):
            return  # a retry, or the `message` twin of an `app_mention`
        text = question_text(event)
        typed = kb_commands.parse(text)
        if typed is not None and typed[0] in kb_commands.COMMANDS:  # `kb save` and friends, where slash
            # commands can't go (a question that merely starts with "kb" stays a question)
            await self.commands.typed(team, event, *typed)
            return
        thread_ts = str(event.get("thread_ts") or ts)
        user = str(event.get("user"))
        incoming = await self.events.incoming(team, channel, thread_ts, user, text, body,
                                              channel_type=event.get("channel_type"))
        media, files = media_of(event)
        if not text or media or files:
            admission = await self.service.admit(incoming)  # even the hint is only for places kbot serves
            if admission.incoming is None:
                if admission.reply:
                    await self._port(team, channel, thread_ts, user).fail(admission.reply)
                return
            if media or files:
                note = unsupported_note(media, files, UPLOAD_HINT, answering=bool(text))
                await self._port(team, channel, thread_ts, user).fail(note)
            if text:
                self.service.submit(admission.incoming, lambda: self._port(team, channel, thread_ts, user),
                                    admitted=True, private_port=self._private(event, channel, thread_ts, user))
            elif not (media or files):
                await self._port(team, channel, thread_ts, user).fail(EMPTY_MENTION)
            return
        self.service.submit(incoming, lambda: self._port(team, channel, thread_ts, user),
                            private_port=self._private(event, channel, thread_ts, user))

    def _private(self, event: dict[str, Any], channel: str, thread_ts: str, user: str) -> Any:
        """Where the asker alone sees the answer (a DM is private already: None)."""
        if event.get("channel_type") == "im" or channel.startswith("D"):
            return None
        return lambda: SlackPrivatePort(self.client, channel, thread_ts, user)

    async def _on_share(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """"Share with the channel" on a private answer: posted in its thread as a normal answer, once."""
        await ack()
        user = str(body.get("user", {}).get("id"))
        channel = str(body.get("channel", {}).get("id") or (body.get("container") or {}).get("channel_id"))
        team = str((body.get("team") or {}).get("id") or body.get("user", {}).get("team_id"))
        reply_id, thread_ts = parse_share(str(action.get("value") or ""))
        answer = await self.service.share(PLATFORM, reply_id, user, channel)
        if isinstance(answer, str):
            with contextlib.suppress(SlackApiError):
                await self.client.chat_postEphemeral(channel=channel, user=user, text=plain(answer),
                                                     thread_ts=thread_ts or None)
            return
        if not await self.service.claim(PLATFORM, f"share:{reply_id}"):
            return  # shared already (a second click, or a retried delivery)
        await self._port(team, channel, thread_ts, user).finish(answer)

    async def _on_ask(self, ack: Any, command: dict[str, Any]) -> None:
        """`/ask question`: slash commands have no thread, so the question is posted and answered under it."""
        question = str(command.get("text") or "").strip()
        if not question:
            await ack(EMPTY_ASK)
            return
        await ack()
        team, channel, user = str(command.get("team_id")), str(command.get("channel_id")), str(command.get("user_id"))
        if not await self.service.claim(PLATFORM, f"command:{command.get('trigger_id')}"):
            return
        # The question is echoed into the channel only once the gate has let it through.
        admission = await self.service.admit(await self.events.incoming(team, channel, "ask", user, question, command))
        if admission.incoming is None:
            if admission.reply:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=plain(admission.reply))
            return
        try:
            posted = await self.client.chat_postMessage(
                channel=channel, text=f"<@{user}> asked: {plain(question)}", unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            log.warning("slack: /ask could not post the question: %s", exc.response.get("error"))
            await self.client.chat_postEphemeral(channel=channel, user=user, text=CANNOT_POST)
            return
        thread_ts = str(posted["ts"])
        incoming = replace(admission.incoming, key=ThreadKey(PLATFORM, team, channel, thread_ts))
        self.service.submit(incoming, lambda: self._port(team, channel, thread_ts, user), admitted=True)

    async def _on_why(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Shown to the one who clicked only (an ephemeral message in the answer's thread)."""
        await ack()
        user = str(body.get("user", {}).get("id"))
        channel = str(body.get("channel", {}).get("id"))
        team = str((body.get("team") or {}).get("id") or body.get("user", {}).get("team_id"))
        text = await self.service.explain(Place(PLATFORM, team, channel), str(action.get("value") or ""))
        thread_ts = body.get("message", {}).get("thread_ts")
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=plain(text or UNKNOWN),
                                                 thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("slack: could not show why: %s", exc.response.get("error"))

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
