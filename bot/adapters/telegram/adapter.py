"""The Telegram adapter: python-telegram-bot's Application, one handler per kind of update, and
long polling or kbot's own webhook receiver."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from itertools import count
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Chat, Message, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.admins import AdminRule
from bot.adapters.context import PlatformContext
from bot.adapters.formatting import defuse_mentions
from bot.adapters.reply_roots import ReplyRoots
from bot.adapters.telegram.commands import TelegramCommands, download_cap
from bot.adapters.telegram.doctor import REFUSED_TOKEN, RevokedTokenFilter, diagnose, reason, unreachable
from bot.adapters.telegram.events import PLATFORM, TelegramEvents, media_of
from bot.adapters.telegram.port import (
    MAX_LENGTH,
    NO_PREVIEW,
    SHARE_DATA,
    WHY_DATA,
    PrivateChatPort,
    TelegramPort,
)
from bot.adapters.telegram.settings import TelegramSettings
from bot.adapters.telegram.webhook import WebhookReceiver, derived_secret
from bot.adapters.unsupported import unsupported_note
from bot.chat import commands
from bot.chat.commands import CHAT_COMMANDS
from bot.core.checks import Finding
from bot.core.clock import wait_for
from bot.core.jobs import JobView
from bot.core.messages import Incoming
from bot.core.pacing import EditBudgets
from bot.core.requests import Place
from bot.core.start_errors import refused
from bot.state.explanations import UNKNOWN
from bot.state.feedback import parse_vote

log = logging.getLogger("kbot.telegram")

API_PROBE_S = 5.0  # /readyz asks the Bot API at most this often
API_PROBE_TIMEOUT_S = 3.0
UPDATES = ["message", "callback_query"]
KB_CAPTION = r"^/kb(@\w+)?(\s|$)"  # `/kb upload` as a document's caption
MEDIA = (filters.PHOTO | filters.VOICE | filters.VIDEO | filters.VIDEO_NOTE | filters.Sticker.ALL | filters.AUDIO
         | filters.ANIMATION | filters.Document.ALL)
UPLOAD_HINT = "send it with the caption /kb upload (or reply /kb upload to it)"
HELP = (
    "Ask me anything about the team's documents and I'll answer with sources.\n"
    "In a private chat just write your question. In a group, mention me, reply to one of my answers, "
    "or use /ask <question>, e.g. /ask how many vacation days do we get?\n"
    "Add documents by sending them with the caption /kb upload; /kb help lists the knowledge commands."
)
WHY_REPEAT_MINUTES = 10
WHY_SHOWN = "The explanation is already posted, just under the answer."
EMPTY_ASK = "Ask me a question after /ask, e.g. /ask how many vacation days do we get?"
# Telegram's command menu: `/kb`'s line names its subcommands, from the chat command table.
COMMANDS = [BotCommand("ask", "Ask the knowledge base a question"),
            BotCommand("kb", f"Documents: {', '.join(c.name for c in CHAT_COMMANDS if c.name != 'help')} (/kb help)"),
            BotCommand("help", "How to ask kbot")]


def _from_a_person(update: Update) -> Message | None:
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    return message


def _after_command(text: str) -> str:
    """What follows `/command` (or `/command@kbot`)."""
    return text.partition(" ")[2].strip() if " " in text.strip() else ""


class TelegramAdapter:
    name = PLATFORM

    def __init__(self, settings: TelegramSettings, token: str, context: PlatformContext) -> None:
        self.settings = settings
        self.service = context.service
        self._token = token
        self._polling_failure_said = float("-inf")
        self._revocation_said = False
        RevokedTokenFilter.install(self._token_revoked)
        builder = ApplicationBuilder().token(token).concurrent_updates(True)
        if settings.base_url:
            builder = builder.base_url(settings.base_url)
        if settings.base_file_url:
            builder = builder.base_file_url(settings.base_file_url)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.clock = context.clock
        self.budgets = EditBudgets(1, 1.0, context.clock)  # about one message or edit per second per chat
        # Drafts (private chats) are not messages: they pace themselves, so the final message's
        # call on the chat's budget is free the moment the answer is ready.
        self.draft_budgets = EditBudgets(1, 1.0, context.clock)
        self.roots = ReplyRoots()
        self.events = TelegramEvents(AdminRule(frozenset(settings.admins)), self.roots)
        self.commands = TelegramCommands(self.app.bot, self.service, self.events, self.budgets,
                                         download_cap(context.max_file_bytes, bool(settings.base_url)))
        self.app.add_handlers([
            CallbackQueryHandler(self._on_vote, pattern=r"^fb:"),
            CallbackQueryHandler(self._on_why, pattern=rf"^{WHY_DATA}"),
            CallbackQueryHandler(self._on_share, pattern=rf"^{SHARE_DATA}"),
            CommandHandler("kb", self._on_kb),
            MessageHandler(filters.CaptionRegex(KB_CAPTION), self._on_kb),
            CommandHandler(["start", "help"], self._on_help),
            CommandHandler("ask", self._on_ask),
            MessageHandler(filters.TEXT & ~filters.COMMAND, self._on_text),
            MessageHandler(MEDIA, self._on_media),
        ])
        self.app.add_error_handler(self._on_error)
        self._draft_ids = count(1, 16)
        self._started = False
        self._webhook: WebhookReceiver | None = None
        self._api_ok = False
        self._probed_at = float("-inf")

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Receiving updates (polling, or the webhook receiver) and the Bot API answered lately."""
        receiving = self._webhook.accepting if self._webhook is not None else bool(
            self.app.updater and self.app.updater.running)
        return self._started and receiving and self._api_ok

    async def ready(self) -> bool:
        """Ask the Bot API (getMe) at most every few seconds; /readyz reports what it answered."""
        now = self.clock.monotonic()
        if now - self._probed_at >= API_PROBE_S:
            self._probed_at = now
            try:
                await wait_for(self.clock, self.app.bot.get_me(), API_PROBE_TIMEOUT_S)
                self._api_ok = True
            except (TelegramError, TimeoutError, OSError):
                self._api_ok = False
        return self.connected

    async def diagnose(self) -> list[Finding]:
        try:
            return await diagnose(self.app.bot, self.settings, self._token)
        finally:
            await self.app.bot.shutdown()

    async def start(self) -> None:
        try:
            await self.app.initialize()  # getMe: the token and the API, checked once
        except InvalidToken:
            raise refused(REFUSED_TOKEN, "telegram.token") from None
        except NetworkError as exc:
            raise refused(unreachable(self.settings, exc, self._token), "telegram.base_url") from None
        self.events.username, self.events.bot_id = self.app.bot.username or "", self.app.bot.id
        await self.app.bot.set_my_commands(COMMANDS)
        if self.settings.mode == "webhook":
            secret = (self.settings.webhook_secret.get_secret_value() if self.settings.webhook_secret
                      else derived_secret(self._token))
            self._webhook = WebhookReceiver(self.app, secret, self.settings.webhook_host, self.settings.webhook_port,
                                            urlsplit(self.settings.webhook_url or "").path)
            await self._webhook.start()
            await self.app.bot.set_webhook(url=self.settings.webhook_url or "", secret_token=secret,
                                           allowed_updates=UPDATES)
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(allowed_updates=UPDATES, timeout=10,
                                                 error_callback=self._polling_failed)
        await self.app.start()
        self._started = True
        self._api_ok = True  # getMe just answered (initialize)
        log.info("telegram: connected as @%s (%s)", self.app.bot.username, self.settings.mode)

    async def stop_receiving(self) -> None:
        if self._webhook is not None:
            self._webhook.accepting = False
        if self.app.updater is not None and self.app.updater.running:
            with contextlib.suppress(InvalidToken):  # polling already ended on a revoked token (said once)
                await self.app.updater.stop()

    def _polling_failed(self, exc: TelegramError) -> None:
        """A failed getUpdates (the network, Telegram's side): one line a minute, not one per retry."""
        now = self.clock.monotonic()
        if now - self._polling_failure_said >= POLLING_FAILURE_EVERY_S:
            self._polling_failure_said = now
            log.warning("telegram: fetching updates failed (%s); retrying", reason(exc, self._token))

    def _token_revoked(self) -> None:
        """Telegram refused the token while running: receiving has stopped; the other platforms go on."""
        self._api_ok = False
        if not self._revocation_said:
            self._revocation_said = True
            log.error("telegram: Telegram refused the bot token while kbot was running (revoked?): Telegram "
                      "receives nothing until telegram.token is set again and kbot restarted; the other "
                      "platforms go on")

    async def close(self) -> None:
        if self._webhook is not None:
            await self._webhook.stop()
        if self._started:
            await self.app.stop()
            await self.app.shutdown()
            self._started = False

    async def show_job(self, view: JobView) -> None:
        await self.commands.show_job(view)

    async def post_report(self, channel: str, text: str, image: bytes) -> None:
        """The coverage digest: the chart as a photo, then the text (a caption holds only 1,024
        characters); `@ID` is a person's private chat with kbot (they must have started it)."""
        chat = int(channel.removeprefix("@"))
        budget = self.budgets[str(chat)]
        await budget.write(lambda: self.app.bot.send_photo(chat, photo=image, caption="kbot digest"))
        await budget.write(lambda: self.app.bot.send_message(chat, defuse_mentions(text)[:MAX_LENGTH],
                                                             link_preview_options=NO_PREVIEW))

    async def _on_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("telegram: %s", context.error)

    # -- one handler per kind of update ----------------------------------------------------------------

    async def _first(self, message: Message) -> bool:
        """The first delivery of this message? (Telegram re-sends updates it thinks were not received.)"""
        return await self.service.claim(PLATFORM, f"{message.chat_id}:{message.message_id}")

    async def _on_kb(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = _from_a_person(update)
        if message is None or not await self._first(message):
            return
        name, args = commands.parse(message.text or message.caption or "") or ("help", "")
        await self.commands.run(message, name, args)

    async def _on_help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = _from_a_person(update)
        if message is not None and await self._first(message):
            await self.commands.say(message, HELP)

    async def _on_ask(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = _from_a_person(update)
        if message is not None and await self._first(message):
            await self._question(message, _after_command(message.text or ""))

    async def _on_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = _from_a_person(update)
        if message is None:
            return
        text = self.events.addressed_text(message)
        if text is not None and await self._first(message):
            await self._question(message, text)

    async def _on_media(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, voice note, sticker, video or file sent to kbot: it says what it reads (only where
        it serves: others hear about pairing), then answers the caption's words if there are any."""
        message = _from_a_person(update)
        if message is None:
            return
        words = self.events.addressed_caption(message)
        if words is None or not await self._first(message):
            return
        admission = await self.service.admit(self.events.incoming(message, words))
        if admission.incoming is None:
            if admission.reply:
                await self.commands.say(message, admission.reply)
            return
        media, files = media_of(message)
        await self.commands.say(message, unsupported_note(media, files, UPLOAD_HINT, answering=bool(words)))
        if words:
            self._submit(message, admission.incoming)

    async def _question(self, message: Message, text: str) -> None:
        incoming = self.events.incoming(message, text)
        if not text:  # the hint is for places kbot serves; others hear about pairing
            admission = await self.service.admit(incoming)
            if admission.incoming is not None or admission.reply:
                await self.commands.say(message, admission.reply or EMPTY_ASK)
            return
        self._submit(message, incoming, admitted=False)

    def _submit(self, message: Message, incoming: Incoming, *, admitted: bool = True) -> None:
        budget = self.budgets[str(message.chat_id)]
        remember = self.roots.recorder(self.events.reply_root(message, incoming.key),
                                       lambda sent: (message.chat_id, sent))
        drafts = self.draft_budgets[str(message.chat_id)]
        private = None
        if message.chat.type != ChatType.PRIVATE and message.from_user is not None:
            user_id = message.from_user.id

            def private() -> TelegramPort:
                return PrivateChatPort(self.app.bot, message, self.budgets.__getitem__, remember, self._draft_ids,
                                       self.draft_budgets.__getitem__, user_id)
        self.service.submit(incoming, lambda: TelegramPort(self.app.bot, message, budget, remember, self._draft_ids,
                                                           drafts), admitted=admitted, private_port=private)

    async def _on_share(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """"Share with the chat" on a private answer: posted in the group as a reply to the question,
        by the asker only, once."""
        query = update.callback_query
        assert query is not None
        reply_id, _, place = (query.data or "").removeprefix(SHARE_DATA).partition(":")
        chat, _, question_id = place.partition(":")
        answer = await self.service.share(PLATFORM, reply_id, str(query.from_user.id), chat)
        if not isinstance(answer, str) and not await self.service.claim(PLATFORM, f"share:{reply_id}"):
            answer = "That answer was shared already."
        if isinstance(answer, str) or not chat.lstrip("-").isdigit() or not question_id.isdigit():
            await query.answer(str(answer) if isinstance(answer, str) else None)
            return
        await query.answer("Shared with the chat.")
        question = Message(int(question_id), datetime.now(UTC), Chat(int(chat), ChatType.SUPERGROUP))
        remember = self.roots.recorder(int(question_id), lambda sent: (int(chat), sent))
        port = TelegramPort(self.app.bot, question, self.budgets[chat], remember, self._draft_ids,
                            self.draft_budgets[chat])
        await port.finish(answer)

    async def _on_why(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram has no message for one person in a group: the explanation is posted as a reply to
        the answer, once in WHY_REPEAT_MINUTES however many click (a private chat is the asker's own)."""
        query = update.callback_query
        assert query is not None
        answer_message = query.message
        if not isinstance(answer_message, Message):  # too old for Telegram to include it
            await query.answer(UNKNOWN, show_alert=True)
            return
        chat = answer_message.chat
        private = chat.type == ChatType.PRIVATE
        text = await self.service.explain(Place(PLATFORM, str(chat.id), str(chat.id)),
                                          (query.data or "").removeprefix(WHY_DATA),
                                          once_per_minutes=0 if private else WHY_REPEAT_MINUTES)
        if text is None:
            await query.answer(WHY_SHOWN)
            return
        await query.answer()
        topic = answer_message.message_thread_id if answer_message.is_topic_message else None
        try:
            await self.budgets[str(chat.id)].write(lambda: self.app.bot.send_message(
                chat.id, defuse_mentions(text), link_preview_options=NO_PREVIEW, message_thread_id=topic,
                reply_parameters=ReplyParameters(answer_message.message_id, allow_sending_without_reply=True)))
        except TelegramError as exc:
            log.warning("telegram: could not show why: %s", exc)

    async def _on_vote(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        _, _, rest = (query.data or "").partition(":")
        vote_name, _, reply_id = rest.partition(":")
        vote = parse_vote(vote_name)
        if vote is None or not reply_id:
            await query.answer()
            return
        thanks = await self.service.vote(PLATFORM, reply_id, str(query.from_user.id), vote)
        await query.answer(thanks)


POLLING_FAILURE_EVERY_S = 60.0
