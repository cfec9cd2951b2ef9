"""A real local Telegram Bot API server (127.0.0.1) that python-telegram-bot talks to unchanged.

It long-polls getUpdates, keeps the messages the bot sends and edits, takes drafts, serves files,
and enforces Telegram's limits: 4,096 characters after entity parsing, well-formed HTML, about one
message or edit per second per chat (a 429 with retry_after otherwise), "message is not modified".
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from tests.fakes.aio import FakePlatform
from tests.support.clock import TEST_CLOCK, ScaledClock

BOT_ID = 990001
BOT_USERNAME = "kbot_test_bot"
TOKEN = "990001:test-token-not-secret"
_RAW_STRINGS = {"text", "caption", "parse_mode", "callback_query_id", "url", "file_id", "secret_token", "offset"}
_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                 "span", "blockquote"}


class _HTMLCheck(HTMLParser):
    """Telegram refuses unknown or unbalanced tags; so does this."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.visible = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f"Unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f"Unexpected end tag \"{tag}\""

    def handle_data(self, data: str) -> None:
        self.visible += data


def visible_text(text: str, parse_mode: str | None) -> tuple[str, str | None]:
    """The text as Telegram counts it, and a parse error if the markup is bad."""
    if parse_mode != "HTML":
        return text, None
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);)", text, re.IGNORECASE):
        return html.unescape(text), "Can't parse entities: unsupported character entity"
    checker = _HTMLCheck()
    checker.feed(text)
    checker.close()
    if checker.stack and not checker.error:
        checker.error = f"Can't find end tag corresponding to start tag \"{checker.stack[-1]}\""
    return checker.visible, checker.error and f"Can't parse entities: {checker.error}"


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_to: int | None
    thread_id: int | None
    reply_markup: Any
    link_preview_disabled: bool
    edits: int = 0
    history: list[str] = field(default_factory=list)  # every text it showed, the first one included


@dataclass
class TelegramState:
    updates: list[dict] = field(default_factory=list)
    messages: dict[tuple[int, int], SentMessage] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    drafts: list[dict] = field(default_factory=list)
    callback_answers: list[dict] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    not_started: set[int] = field(default_factory=set)  # people who never started kbot: no private messages
    photos: list[dict] = field(default_factory=list)  # sendPhoto: chat_id, caption, the image's bytes
    webhook: dict | None = None  # setWebhook's parameters while a webhook is set
    chat_admins: set[int] = field(default_factory=set)  # user ids getChatMember calls administrators
    commands: list[Any] = field(default_factory=list)
    too_many_requests: int = 0
    rejected: list[str] = field(default_factory=list)  # 400s other than "not modified"
    down: bool = False  # a test takes the Bot API away
    next_update_id: int = 100
    next_message_id: int = 5000
    writes: dict[int, deque] = field(default_factory=lambda: defaultdict(deque))


class FakeTelegram(FakePlatform):
    """Start with `with FakeTelegram() as tg:`; `tg.api_base` is PTB's `base_url`."""

    window_s = 0.9  # at most one message or edit per chat in this window (Telegram: about 1/s)

    def __init__(self, clock: ScaledClock = TEST_CLOCK) -> None:
        self.revoked = False  # True: the token was revoked (@BotFather /revoke): every call is a 401
        self.unauthorized = 0  # calls answered 401
        self.state = TelegramState()
        self._new_update: asyncio.Event | None = None
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        super().__init__(app, clock)

    def __enter__(self) -> FakeTelegram:
        super().__enter__()
        self._new_update = self.server.run(self._make_event())
        return self

    async def _make_event(self) -> asyncio.Event:
        return asyncio.Event()

    @property
    def api_base(self) -> str:
        return f"{self.server.url}/bot"

    @property
    def file_base(self) -> str:
        return f"{self.server.url}/file/bot"

    # -- what a test does as a Telegram user ---------------------------------------------------------

    def _push(self, update: dict) -> None:
        def push() -> None:
            self.state.updates.append(update)
            assert self._new_update is not None
            self._new_update.set()

        self.server.call_soon(push)

    def user_message(
        self, chat_id: int, text: str, *, user_id: int = 1, chat_type: str = "private", message_id: int | None = None,
        reply_to: int | None = None, thread_id: int | None = None, update_id: int | None = None,
    ) -> dict:
        """Deliver a message from a person; returns the update (send it again to replay it)."""
        self.state.next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id or self.state.next_message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, **({"title": f"chat {chat_id}"} if chat_type != "private"
                                                          else {"first_name": "Ann"})},
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "text": text,
        }
        mention = f"@{BOT_USERNAME}"
        if mention in text:
            message["entities"] = [{"type": "mention", "offset": text.index(mention), "length": len(mention)}]
        elif text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            original = self.state.messages.get((chat_id, reply_to))
            message["reply_to_message"] = {
                "message_id": reply_to, "date": int(time.time()), "chat": message["chat"],
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "kbot", "username": BOT_USERNAME}
                if original else {"id": user_id, "is_bot": False, "first_name": "x"},
                "text": original.text if original else "earlier",
            }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        self.state.next_update_id += 1
        update = {"update_id": update_id or self.state.next_update_id, "message": message}
        self._push(update)
        return update

    def post_to_webhook(self, update: dict | bytes, secret: str | None = None, url: str | None = None) -> int:
        """Deliver an update the webhook way: Telegram POSTs it to the URL given to setWebhook.

        `secret` None sends the one setWebhook was given; "" sends no secret header at all (a forger).
        `url`: where it really lands (one process behind the load balancer the webhook URL names).
        """
        hook = self.state.webhook or {}
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        request = urllib.request.Request(url or hook["url"], data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        token = secret if secret is not None else hook.get("secret_token")
        if token:
            request.add_header("X-Telegram-Bot-Api-Secret-Token", token)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (a local test URL)
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def make_update(self, chat_id: int, text: str, *, user_id: int = 1, chat_type: str = "private") -> dict:
        """An update for a message, not queued for getUpdates (for webhook deliveries)."""
        self.state.next_message_id += 1
        self.state.next_update_id += 1
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": "Ann"} if chat_type == "private" else {"title": f"chat {chat_id}"})
        sender = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
        message: dict[str, Any] = {"message_id": self.state.next_message_id, "date": int(time.time()), "text": text,
                                   "chat": chat, "from": sender}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": self.state.next_update_id, "message": message}

    def user_document(self, chat_id: int, filename: str, data: bytes, *, caption: str | None = None,
                      user_id: int = 1, chat_type: str = "supergroup", thread_id: int | None = None) -> dict:
        """A person sends a file (kept for getFile and download), optionally with a caption."""
        file_id = f"file{len(self.state.files) + 1}"
        self.state.files[file_id] = data
        self.state.next_message_id += 1
        self.state.next_update_id += 1
        message: dict[str, Any] = {
            "message_id": self.state.next_message_id, "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "title": f"chat {chat_id}"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "document": {"file_id": file_id, "file_unique_id": file_id, "file_name": filename,
                         "mime_type": "application/octet-stream", "file_size": len(data)},
        }
        if caption:
            message["caption"] = caption
        if thread_id is not None:  # a forum topic
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            message["chat"]["is_forum"] = True
            command = caption.split()[0]
            if command.startswith("/"):
                message["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        update = {"update_id": self.state.next_update_id, "message": message}
        self._push(update)
        return update

    def user_media(self, chat_id: int, kind: str, *, caption: str | None = None, user_id: int = 1,
                   chat_type: str = "private", data: bytes = b"") -> dict:
        """A person sends a photo, voice note, sticker or video (as the Bot API describes each);
        `data` is what getFile then downloads."""
        self.state.next_message_id += 1
        self.state.next_update_id += 1
        unique = f"media{self.state.next_message_id}"
        self.state.files[unique] = data
        media: dict[str, Any] = {
            "photo": [{"file_id": unique, "file_unique_id": unique, "width": 90, "height": 60,
                       "file_size": len(data)}],
            "voice": {"file_id": unique, "file_unique_id": unique, "duration": 3, "mime_type": "audio/ogg"},
            "sticker": {"file_id": unique, "file_unique_id": unique, "type": "regular", "width": 512, "height": 512,
                        "is_animated": False, "is_video": False},
            "video": {"file_id": unique, "file_unique_id": unique, "width": 640, "height": 360, "duration": 5},
        }
        chat = {"id": chat_id, "type": chat_type, **({"title": f"chat {chat_id}"} if chat_type != "private"
                                                     else {"first_name": "Ann"})}
        message: dict[str, Any] = {
            "message_id": self.state.next_message_id, "date": int(time.time()), "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}, kind: media[kind],
        }
        if caption:
            message["caption"] = caption
            mention = f"@{BOT_USERNAME}"
            if mention in caption:
                message["caption_entities"] = [{"type": "mention", "offset": caption.index(mention),
                                                "length": len(mention)}]
            elif caption.startswith("/"):
                message["caption_entities"] = [{"type": "bot_command", "offset": 0,
                                                "length": len(caption.split()[0])}]
        update = {"update_id": self.state.next_update_id, "message": message}
        self._push(update)
        return update

    def replay(self, update: dict) -> None:
        """Deliver an update again, as Telegram does when it was not confirmed (same update_id)."""
        self._push({**update, "_replay": True})

    def click(self, chat_id: int, message_id: int, data: str, *, user_id: int = 1, chat_type: str = "private") -> None:
        self.state.next_update_id += 1
        sent = self.state.messages[(chat_id, message_id)]
        self._push({"update_id": self.state.next_update_id, "callback_query": {
            "id": f"cb{self.state.next_update_id}", "from": {"id": user_id, "is_bot": False, "first_name": "u"},
            "chat_instance": "ci", "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "text": sent.text,
                        "chat": {"id": chat_id, "type": chat_type}},
        }})

    def bot_messages(self, chat_id: int) -> list[SentMessage]:
        return sorted((m for (c, _), m in self.state.messages.items() if c == chat_id), key=lambda m: m.message_id)

    def method_calls(self, name: str) -> list[dict]:
        return [params for method, params in self.state.calls if method == name]

    # -- the Bot API ---------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params: dict[str, Any] = dict(request.query)
        for key, value in form.items():
            if not isinstance(value, str):
                params[key] = value.file.read()  # an uploaded file (sendPhoto's photo): its bytes
                continue
            if key in _RAW_STRINGS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    def _ok(self, result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def _error(self, code: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    def _paced(self, chat_id: int) -> bool:
        stamps = self.state.writes[chat_id]
        now = self.clock.monotonic()
        while stamps and now - stamps[0] >= self.window_s:
            stamps.popleft()
        if stamps:
            self.state.too_many_requests += 1
            return False
        stamps.append(now)
        return True

    async def _method(self, request: web.Request) -> web.Response:
        if self.state.down:  # Telegram unreachable, as a gateway in front of it reports
            return web.Response(status=502, text="Bad Gateway")
        if request.match_info["token"] != TOKEN or self.revoked:
            self.unauthorized += 1
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            self.state.calls.append((method, params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        if method in ("sendMessage", "editMessageText"):
            self._audit(method, params)
        return await handler(params)

    def _audit(self, method: str, p: dict) -> None:
        """The community rule for every message: link previews off."""
        self.writes_checked += 1
        preview = p.get("link_preview_options") or {}
        if not (preview.get("is_disabled") or p.get("disable_web_page_preview")):
            self.violation(f"{method} without link previews disabled")

    async def _api_getMe(self, _p: dict) -> web.Response:  # noqa: N802 (the Bot API's names)
        return self._ok({"id": BOT_ID, "is_bot": True, "first_name": "kbot", "username": BOT_USERNAME,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False})

    async def _api_deleteWebhook(self, _p: dict) -> web.Response:  # noqa: N802
        self.state.webhook = None
        return self._ok(True)

    async def _api_setWebhook(self, p: dict) -> web.Response:  # noqa: N802
        self.state.webhook = p
        return self._ok(True)

    async def _api_setMyCommands(self, p: dict) -> web.Response:  # noqa: N802
        self.state.commands = p.get("commands", [])
        return self._ok(True)

    def _forbidden(self, p: dict) -> web.Response | None:
        if int(p.get("chat_id") or 0) in self.state.not_started:
            return self._error(403, "Forbidden: bot can't initiate conversation with a user")
        return None

    async def _api_sendPhoto(self, p: dict) -> web.Response:  # noqa: N802
        forbidden = self._forbidden(p)
        if forbidden is not None:
            return forbidden
        chat_id = int(p["chat_id"])
        if len(str(p.get("caption") or "")) > 1024:
            self.state.rejected.append("caption too long")
            return self._error(400, "Bad Request: message caption is too long")
        self.state.photos.append({"chat_id": chat_id, "caption": p.get("caption"), "data": p.get("photo")})
        self.state.next_message_id += 1
        return self._ok({"message_id": self.state.next_message_id, "date": int(time.time()),
                         "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                         "photo": [{"file_id": "sent", "file_unique_id": "sent", "width": 900, "height": 420}]})

    async def _api_sendChatAction(self, p: dict) -> web.Response:  # noqa: N802
        return self._forbidden(p) or self._ok(True)

    async def _api_getUpdates(self, p: dict) -> web.Response:  # noqa: N802
        offset = int(p.get("offset") or 0)
        # "Up to" the timeout: returning early keeps shutdowns quick.
        timeout = min(self.clock.real_seconds(float(p.get("timeout") or 0)), 0.2)
        assert self._new_update is not None
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self.state.updates if u["update_id"] >= offset or u.get("_replay")]
            if ready or time.monotonic() >= deadline:
                self.state.updates = [u for u in self.state.updates if u not in ready and u["update_id"] >= offset]
                return self._ok([{k: v for k, v in u.items() if k != "_replay"} for u in ready])
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), max(deadline - time.monotonic(), 0.01))

    def _check_text(self, p: dict) -> web.Response | None:
        text = p.get("text")
        if not text:
            self.state.rejected.append("empty text")
            return self._error(400, "Bad Request: message text is empty")
        visible, problem = visible_text(text, p.get("parse_mode"))
        if problem:
            self.state.rejected.append(problem)
            return self._error(400, f"Bad Request: {problem}")
        if len(visible) > 4096:
            self.state.rejected.append(f"too long: {len(visible)}")
            return self._error(400, "Bad Request: message is too long")
        return None

    def _message_json(self, m: SentMessage) -> dict:
        out: dict[str, Any] = {"message_id": m.message_id, "date": int(time.time()), "text": m.text,
                               "chat": {"id": m.chat_id, "type": "private" if m.chat_id > 0 else "supergroup"},
                               "from": {"id": BOT_ID, "is_bot": True, "first_name": "kbot"}}
        if m.thread_id:
            out["message_thread_id"] = m.thread_id
        return out

    async def _api_sendMessage(self, p: dict) -> web.Response:  # noqa: N802
        chat_id = int(p["chat_id"])
        forbidden = self._forbidden(p)
        if forbidden is not None:
            return forbidden
        problem = self._check_text(p)
        if problem is not None:
            return problem
        if not self._paced(chat_id):
            return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
        self.state.next_message_id += 1
        reply = p.get("reply_parameters") or {}
        preview = p.get("link_preview_options") or {}
        message = SentMessage(chat_id, self.state.next_message_id, p["text"], p.get("parse_mode"),
                              reply.get("message_id") or p.get("reply_to_message_id"), p.get("message_thread_id"),
                              p.get("reply_markup"), bool(preview.get("is_disabled")), history=[p["text"]])
        self.state.messages[(chat_id, message.message_id)] = message
        return self._ok(self._message_json(message))

    async def _api_editMessageText(self, p: dict) -> web.Response:  # noqa: N802
        chat_id = int(p["chat_id"])
        message = self.state.messages.get((chat_id, int(p["message_id"])))
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        problem = self._check_text(p)
        if problem is not None:
            return problem
        if (message.text == p["text"] and message.parse_mode == p.get("parse_mode")
                and message.reply_markup == p.get("reply_markup")):
            return self._error(400, "Bad Request: message is not modified: specified new message content and reply "
                                    "markup are exactly the same as a current content and reply markup of the message")
        if not self._paced(chat_id):
            return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
        preview = p.get("link_preview_options") or {}
        message.text, message.parse_mode, message.reply_markup = p["text"], p.get("parse_mode"), p.get("reply_markup")
        message.link_preview_disabled = bool(preview.get("is_disabled"))
        message.edits += 1
        message.history.append(message.text)
        return self._ok(self._message_json(message))

    async def _api_sendMessageDraft(self, p: dict) -> web.Response:  # noqa: N802
        chat_id = int(p["chat_id"])
        if chat_id < 0:
            return self._error(400, "Bad Request: drafts are only for private chats")
        if int(p.get("draft_id") or 0) == 0:
            return self._error(400, "Bad Request: draft_id must be non-zero")
        problem = self._check_text(p)
        if problem is not None:
            return problem
        self.state.drafts.append(p)
        return self._ok(True)

    async def _api_getChatMember(self, p: dict) -> web.Response:  # noqa: N802
        user_id = int(p["user_id"])
        status = "administrator" if user_id in self.state.chat_admins else "member"
        member: dict[str, Any] = {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": "u"}}
        if status == "administrator":
            member.update({"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                           "can_delete_messages": True, "can_manage_video_chats": True, "can_restrict_members": True,
                           "can_promote_members": False, "can_change_info": True, "can_invite_users": True,
                           "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False})
        return self._ok(member)

    async def _api_answerCallbackQuery(self, p: dict) -> web.Response:  # noqa: N802
        self.state.callback_answers.append(p)
        return self._ok(True)

    async def _api_getFile(self, p: dict) -> web.Response:  # noqa: N802
        file_id = p["file_id"]
        if file_id not in self.state.files:
            return self._error(400, "Bad Request: invalid file_id")
        return self._ok({"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.state.files[file_id]),
                         "file_path": f"documents/{file_id}"})

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != TOKEN or file_id not in self.state.files:
            return web.Response(status=404)
        return web.Response(body=self.state.files[file_id])
