"""Telegram adapter (python-telegram-bot): updates in, `Incoming` out; a reply port that drafts or edits.

Private chats stream with `sendMessageDraft` and then send the final message; groups send a reply
and edit it, about once a second per chat (one budget shared by every answer in that chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from itertools import count
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot import commands
from bot.adapters.formatting import defuse_mentions, to_telegram_html
from bot.adapters.reply_roots import ReplyRoots
from bot.adapters.telegram_webhook import WebhookReceiver, derived_secret
from bot.commands import CommandRequest, Upload
from bot.config import TelegramSettings
from bot.feedback import parse_vote
from bot.jobs import JobView
from bot.messages import Answer, Incoming, PortLimits, ThreadKey
from bot.scopes import visible_scopes, workspace_scope
from bot.service import QuestionService
from bot.streaming import EditBudget, EditBudgets

log = logging.getLogger("kbot.telegram")

PLATFORM = "telegram"
MAX_LENGTH = 4096
BOT_API_DOWNLOAD_CAP = 20 * 1024 * 1024
API_PROBE_S = 5.0  # /readyz asks the Bot API at most this often
API_PROBE_TIMEOUT_S = 3.0  # getFile refuses bigger files on the public Bot API
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
HELP = (
    "Ask me anything about the team's documents and I'll answer with sources.\n"
    "In a private chat just write your question. In a group, mention me, reply to one of my answers, "
    "or use /ask <question>, e.g. /ask how many vacation days do we get?\n"
    "Add documents by sending them with the caption /kb upload; /kb help lists the knowledge commands."
)
EMPTY_ASK = "Ask me a question after /ask, e.g. /ask how many vacation days do we get?"
COMMANDS = [BotCommand("ask", "Ask the knowledge base a question"), BotCommand("kb", "Add, list and manage "
            "documents: /kb help"), BotCommand("help", "How to ask kbot")]


def _place_name(message: Message) -> str:
    if message.chat.type == ChatType.PRIVATE:
        user = message.from_user
        return f"private chat with {user.full_name if user else message.chat_id}"
    return message.chat.title or str(message.chat_id)


def feedback_keyboard(reply_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data=f"fb:up:{reply_id}"),
                                  InlineKeyboardButton("👎", callback_data=f"fb:down:{reply_id}")]])


class TelegramPort:
    """One answer in one chat. Drafts in private chats; a reply message edited in place in groups."""

    def __init__(
        self, app: Application, question: Message, budget: EditBudget, on_sent: Callable[[int], None],
        draft_ids: count,
    ) -> None:
        self.bot = app.bot
        self.chat_id = question.chat_id
        self.question_id = question.message_id
        self.topic = question.message_thread_id if question.is_topic_message else None
        self.private = question.chat.type == ChatType.PRIVATE
        self.edit_budget = self.post_budget = budget  # one budget per chat for messages and edits
        self.on_sent = on_sent
        self.draft_id = next(draft_ids)
        self.limits = PortLimits(max_length=MAX_LENGTH, min_edit_interval_s=1.0, native_stream=self.private)
        self.message_ids: list[int] = []
        self.texts: list[str] = []

    async def start(self) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING, message_thread_id=self.topic)

    async def _send(self, text: str, parse_mode: str | None = None, markup: InlineKeyboardMarkup | None = None) -> None:
        message = await self.bot.send_message(
            self.chat_id, text, parse_mode=parse_mode, reply_markup=markup, link_preview_options=NO_PREVIEW,
            message_thread_id=self.topic,
            reply_parameters=ReplyParameters(self.question_id, allow_sending_without_reply=True)
            if not self.message_ids else None,
        )
        self.message_ids.append(message.message_id)
        self.texts.append(text)
        self.on_sent(message.message_id)

    async def _edit(self, index: int, text: str, parse_mode: str | None = None,
                    markup: InlineKeyboardMarkup | None = None) -> None:
        try:
            await self.bot.edit_message_text(text, self.chat_id, self.message_ids[index], parse_mode=parse_mode,
                                             reply_markup=markup, link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        self.texts[index] = text

    async def update(self, index: int, text: str) -> None:
        text = defuse_mentions(text)
        try:
            if self.private:
                await self.bot.send_message_draft(self.chat_id, self.draft_id + index, text,
                                                  message_thread_id=self.topic)
            elif index < len(self.message_ids):
                await self._edit(index, text)
            else:
                await self._send(text)
        except RetryAfter as exc:  # an intermediate edit is skipped, never waited for
            log.info("telegram asked to slow down for %ss; skipping an intermediate edit", exc.retry_after)
        except BadRequest as exc:
            log.warning("telegram refused an intermediate edit: %s", exc)

    async def _final(self, index: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        html = to_telegram_html(text)
        for attempt in range(3):
            try:
                await self.edit_budget.take()
                try:
                    if index < len(self.message_ids):
                        await self._edit(index, html, ParseMode.HTML, markup)
                    else:
                        await self._send(html, ParseMode.HTML, markup)
                    self.edit_budget.settle()
                except BadRequest as exc:
                    if "parse entities" not in str(exc).lower():
                        raise
                    plain = defuse_mentions(text)  # the markup was refused: the words still arrive
                    await self.edit_budget.take()
                    if index < len(self.message_ids):
                        await self._edit(index, plain, None, markup)
                    else:
                        await self._send(plain, None, markup)
                self.edit_budget.settle()
                return
            except RetryAfter as exc:
                if attempt == 2:
                    raise
                delay = exc.retry_after
                await asyncio.sleep(delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay))

    async def finish(self, parts: list[str], answer: Answer) -> None:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self._final(index, part, feedback_keyboard(answer.reply_id) if last and answer.reply_id else None)

    async def fail(self, message: str) -> None:
        notice = f"⚠️ {message}"
        if self.message_ids:
            await self._final(len(self.message_ids) - 1, f"{self.texts[-1].removesuffix(' …')}\n\n{notice}", None)
        else:
            await self._final(0, notice, None)


class TelegramAdapter:
    name = PLATFORM

    def __init__(self, settings: TelegramSettings, token: str, service: QuestionService,
                 max_file_bytes: int = 25_000_000) -> None:
        self.settings = settings
        self.max_file_bytes = max_file_bytes
        self.service = service
        builder = ApplicationBuilder().token(token).concurrent_updates(True)
        if settings.base_url:
            builder = builder.base_url(settings.base_url)
        if settings.base_file_url:
            builder = builder.base_file_url(settings.base_file_url)
        self.app = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self.budgets = EditBudgets(1, 1.0)  # about one message or edit per second per chat
        self._roots = ReplyRoots()  # (chat, kbot's message) -> its thread's root
        self._draft_ids = count(1, 16)
        self._started = False
        self._token = token
        self._webhook: WebhookReceiver | None = None
        self._api_ok = False
        self._probed_at = float("-inf")

    @property
    def connected(self) -> bool:
        """Receiving updates (polling, or the webhook receiver) and the Bot API answered lately."""
        receiving = self._webhook.accepting if self._webhook is not None else bool(
            self.app.updater and self.app.updater.running)
        return self._started and receiving and self._api_ok

    async def ready(self) -> bool:
        """Ask the Bot API (getMe) at most every few seconds; /readyz reports what it answered."""
        now = asyncio.get_running_loop().time()
        if now - self._probed_at >= API_PROBE_S:
            self._probed_at = now
            try:
                await asyncio.wait_for(self.app.bot.get_me(), API_PROBE_TIMEOUT_S)
                self._api_ok = True
            except (TelegramError, TimeoutError, OSError):
                self._api_ok = False
        return self.connected

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.bot.set_my_commands(COMMANDS)
        allowed = ["message", "callback_query"]
        if self.settings.mode == "webhook":
            secret = (self.settings.webhook_secret.get_secret_value() if self.settings.webhook_secret
                      else derived_secret(self._token))
            self._webhook = WebhookReceiver(self.app, secret, self.settings.webhook_host, self.settings.webhook_port,
                                            urlsplit(self.settings.webhook_url or "").path)
            await self._webhook.start()
            await self.app.bot.set_webhook(url=self.settings.webhook_url or "", secret_token=secret,
                                           allowed_updates=allowed)
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(allowed_updates=allowed, timeout=10)
        await self.app.start()
        self._started = True
        self._api_ok = True  # getMe just answered (initialize)
        log.info("telegram: connected as @%s (%s)", self.app.bot.username, self.settings.mode)

    async def stop_receiving(self) -> None:
        if self._webhook is not None:
            self._webhook.accepting = False
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()

    async def close(self) -> None:
        if self._webhook is not None:
            await self._webhook.stop()
        if self._started:
            await self.app.stop()
            await self.app.shutdown()
            self._started = False

    async def _on_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("telegram: %s", context.error)

    # -- translation in -------------------------------------------------------------------------------

    def _question_text(self, message: Message) -> str | None:
        """The question in this message, or None when it isn't addressed to kbot."""
        text = message.text or ""
        username = (self.app.bot.username or "").lower()
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            name, _, target = command[1:].partition("@")
            if target and target.lower() != username:
                return None
            return rest.strip() if name.lower() == "ask" else None
        if message.chat.type == ChatType.PRIVATE:
            return text.strip()
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == self.app.bot.id:
            return text.strip()
        for entity, value in message.parse_entities([MessageEntity.MENTION]).items():
            if value.lower() == f"@{username}":
                return (text[: entity.offset] + text[entity.offset + entity.length:]).strip()
        return None

    def thread_key(self, message: Message) -> ThreadKey:
        chat = str(message.chat_id)
        if message.is_topic_message and message.message_thread_id:
            thread = f"topic:{message.message_thread_id}"
        elif message.chat.type == ChatType.PRIVATE:
            thread = "dm"
        else:
            reply = message.reply_to_message
            root = self._roots.get((message.chat_id, reply.message_id)) if reply is not None else None
            thread = str(root or message.message_id)
        return ThreadKey(PLATFORM, chat, chat, thread)

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await self._on_click(update)
            return
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        parsed = commands.parse(message.text or message.caption or "")
        if parsed is not None:
            if await self.service.claim(PLATFORM, f"{message.chat_id}:{message.message_id}"):
                await self._command(message, *parsed)
            return
        text = message.text or ""
        command = text.split(maxsplit=1)[0].split("@")[0].lower() if text.startswith("/") else ""
        if command in ("/start", "/help"):
            if await self.service.claim(PLATFORM, f"{message.chat_id}:{message.message_id}"):
                await self._say(message, HELP)
            return
        question = self._question_text(message)
        if question is None:
            return
        if not await self.service.claim(PLATFORM, f"{message.chat_id}:{message.message_id}"):
            return
        key = self.thread_key(message)
        user = str(message.from_user.id)
        incoming = Incoming(
            key=key, author=user, text=question, scopes=visible_scopes(PLATFORM, str(message.chat_id)),
            is_admin=user in self.settings.admins, raw=update, operator=user in self.settings.admins,
            place_name=_place_name(message),
        )
        if not question:  # the hint is for places kbot serves; others hear about pairing
            admission = await self.service.admit(incoming)
            if admission.incoming is not None or admission.reply:
                await self._say(message, admission.reply or EMPTY_ASK)
            return
        root = int(key.thread) if key.thread.isdigit() else message.message_id
        budget = self.budgets[str(message.chat_id)]
        remember = self._roots.recorder(root, lambda sent: (message.chat_id, sent))
        self.service.submit(incoming, lambda: TelegramPort(self.app, message, budget, remember, self._draft_ids))

    # -- /kb commands ----------------------------------------------------------------------------------

    async def _is_admin(self, message: Message) -> bool:
        """Configured admins, anyone in their own private chat, and the chat's administrators."""
        user = message.from_user
        assert user is not None
        if str(user.id) in self.settings.admins or message.chat.type == ChatType.PRIVATE:
            return True
        try:
            member = await self.app.bot.get_chat_member(message.chat_id, user.id)
        except TelegramError:
            return False
        return member.status in ("administrator", "creator")

    def _upload(self, message: Message) -> Upload | None:
        """The document on the command's own message, or on the message it replies to."""
        for candidate in (message, message.reply_to_message):
            document = candidate.document if candidate is not None else None
            if document is not None:
                def fetch(file_id: str = document.file_id) -> Awaitable[bytes]:
                    return self._download(file_id)

                return Upload(document.file_name or "document", document.file_size or 0, fetch)
        return None

    async def _download(self, file_id: str) -> bytes:
        file = await self.app.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    async def _command(self, message: Message, name: str, args: str) -> None:
        user = str(message.from_user.id) if message.from_user else "unknown"
        chat = str(message.chat_id)
        key = self.thread_key(message)
        incoming = Incoming(key=key, author=user, text=message.text or message.caption or "",
                            scopes=visible_scopes(PLATFORM, chat), is_admin=await self._is_admin(message), raw=message,
                            operator=user in self.settings.admins, place_name=_place_name(message))
        # The Bot API downloads at most 20 MB; a local Bot API server (telegram.base_url) has no such cap.
        cap = self.max_file_bytes if self.settings.base_url else min(self.max_file_bytes, BOT_API_DOWNLOAD_CAP)
        request = CommandRequest(incoming, args, upload_scope=workspace_scope(PLATFORM, chat),
                                 upload=self._upload(message), max_upload_bytes=cap)
        topic = message.message_thread_id if message.is_topic_message else None

        async def post(text: str) -> dict:
            sent = await self._say(message, text)
            return {"platform": PLATFORM, "chat": message.chat_id, "message": sent.message_id, "topic": topic}

        reply = await self.service.command(name, request, post)
        if reply.text:
            await self._say(message, reply.text)

    async def _say(self, message: Message, text: str) -> Message:
        """A plain reply, drawing on the chat's budget like answers do."""
        budget = self.budgets[str(message.chat_id)]
        await budget.take()
        try:
            return await message.reply_text(defuse_mentions(text), link_preview_options=NO_PREVIEW)
        finally:
            budget.settle()

    async def show_job(self, view: JobView) -> None:
        """Edit the job's progress message, within the chat's pacing (the end always gets through)."""
        chat, message_id = view.target.get("chat"), view.target.get("message")
        if chat is None or message_id is None:
            return
        budget = self.budgets[str(chat)]
        if not await budget.acquire(must=view.ended):
            return  # the next progress event will carry newer numbers anyway
        try:
            await self.app.bot.edit_message_text(view.describe(), chat, message_id, link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning("telegram: could not show job progress: %s", exc)
        except RetryAfter:
            log.info("telegram: progress edit skipped (rate limited)")
        budget.settle()

    async def _on_click(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        kind, _, rest = (query.data or "").partition(":")
        vote_name, _, reply_id = rest.partition(":")
        vote = parse_vote(vote_name)
        if kind != "fb" or vote is None or not reply_id:
            await query.answer()
            return
        thanks = await self.service.vote(PLATFORM, reply_id, str(query.from_user.id), vote)
        await query.answer(thanks)
