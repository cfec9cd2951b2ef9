"""One answer in one Telegram chat: drafts (`sendMessageDraft`) in private chats, a reply edited in
place in groups, then the final message in HTML with 👍/👎, all on the chat's write budget."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from itertools import count

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.adapters.formatting import answer_markdown, defuse_mentions, to_telegram_html, writing
from bot.chat.streaming import put, split_text
from bot.core.messages import Answer, PortLimits
from bot.core.pacing import EditBudget, Pacing
from bot.core.retry import Backoff, retry_async
from bot.state.explanations import WHY_LABEL

log = logging.getLogger("kbot.telegram")

MAX_LENGTH = 4096
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
WHY_DATA = "why:"
SHARE_DATA = "sh:"
SHARE_LABEL = "Share with the chat"
NOT_STARTED = ("(I can answer you privately once you have started a chat with me; until then, here it is "
               "for everyone.)")


def feedback_keyboard(reply_id: str, explain: bool = False, share: str | None = None) -> InlineKeyboardMarkup:
    """👍/👎, "Why these sources?" under an answer that cites any, and "Share with the chat" under a
    private one (`share`: "chat:message" it goes to); callback data stays under 64 bytes."""
    rows = [[InlineKeyboardButton("👍", callback_data=f"fb:up:{reply_id}"),
             InlineKeyboardButton("👎", callback_data=f"fb:down:{reply_id}")]]
    if explain:
        rows.append([InlineKeyboardButton(WHY_LABEL, callback_data=f"{WHY_DATA}{reply_id}")])
    if share is not None:
        rows.append([InlineKeyboardButton(SHARE_LABEL, callback_data=f"{SHARE_DATA}{reply_id}:{share}")])
    return InlineKeyboardMarkup(rows)


class TelegramPort:
    limits = PortLimits(max_length=MAX_LENGTH, min_edit_interval_s=1.0)

    def __init__(self, bot: Bot, question: Message, budget: EditBudget, on_sent: Callable[[int], None],
                 draft_ids: count[int], draft_budget: EditBudget | None = None) -> None:
        self.bot = bot
        self.chat_id = question.chat_id
        self.question_id = question.message_id
        self.topic = question.message_thread_id if question.is_topic_message else None
        self.private = question.chat.type == ChatType.PRIVATE
        self.budget = budget
        # One budget per chat for messages and edits; drafts, in private chats, draw on their own.
        paced = draft_budget if self.private and draft_budget is not None else budget
        self.pacing = Pacing(edits=paced, posts=paced)
        self.on_sent = on_sent
        self.draft_id = next(draft_ids)
        self.message_ids: list[int] = []
        self.texts: list[str] = []  # what each message says, as the streamer gave it (no marks)
        self.share: str | None = None  # a private answer: the "chat:message" it can be shared to

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
        self.on_sent(message.message_id)

    async def _edit(self, index: int, text: str, parse_mode: str | None = None,
                    markup: InlineKeyboardMarkup | None = None) -> None:
        try:
            await self.bot.edit_message_text(text, self.chat_id, self.message_ids[index], parse_mode=parse_mode,
                                             reply_markup=markup, link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def _write(self, index: int, text: str, parse_mode: str | None = None,
                     markup: InlineKeyboardMarkup | None = None) -> None:
        if index < len(self.message_ids):
            await self._edit(index, text, parse_mode, markup)
        else:
            await self._send(text, parse_mode, markup)

    async def update(self, index: int, text: str) -> None:
        shown = writing(defuse_mentions(text))
        try:
            if self.private:
                await self.bot.send_message_draft(self.chat_id, self.draft_id + index, shown,
                                                  message_thread_id=self.topic)
            else:
                await self._write(index, shown)
        except RetryAfter as exc:  # an intermediate edit is skipped, never waited for
            log.info("telegram asked to slow down for %ss; skipping an intermediate edit", exc.retry_after)
            return
        except BadRequest as exc:
            log.warning("telegram refused an intermediate edit: %s", exc)
            return
        put(self.texts, index, text)

    async def _final(self, index: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """HTML, or the plain words when Telegram refuses the markup; retried after a RetryAfter."""
        async def once() -> None:
            try:
                await self.budget.write(lambda: self._write(index, to_telegram_html(text), ParseMode.HTML, markup))
            except BadRequest as exc:
                if "parse entities" not in str(exc).lower():
                    raise
                await self.budget.write(lambda: self._write(index, defuse_mentions(text), None, markup))

        await retry_async(once, FINAL_RETRIES, _telegram_wait, sleep=self.budget.clock.sleep)

    async def finish(self, answer: Answer) -> None:
        parts = split_text(answer_markdown(answer), MAX_LENGTH)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            share = self.share if answer.grounded else None
            markup = (feedback_keyboard(answer.reply_id, bool(answer.sources), share)
                      if last and answer.reply_id else None)
            await self._final(index, part, markup)

    async def fail(self, message: str) -> None:
        notice = f"⚠️ {message}"
        if self.texts and not self.private:
            await self._final(len(self.texts) - 1, f"{self.texts[-1]}\n\n{notice}", None)
        elif self.texts:  # a draft was showing: the final message carries what was written, then the notice
            await self._final(0, f"{self.texts[-1]}\n\n{notice}", None)
        else:
            await self._final(0, notice, None)


class PrivateChatPort(TelegramPort):
    """private_first in a group: the answer goes to the asker's private chat with kbot (drafts and
    all), with "Share with the chat". Telegram lets a bot write only to people who started it: for
    anyone else the answer stays in the group, with a note saying how to get it privately."""

    def __init__(self, bot: Bot, question: Message, budget_for: Callable[[str], EditBudget],
                 on_sent: Callable[[int], None], draft_ids: count[int], draft_budget_for: Callable[[str], EditBudget],
                 user_id: int) -> None:
        super().__init__(bot, question, budget_for(str(question.chat_id)), on_sent, draft_ids,
                         draft_budget_for(str(question.chat_id)))
        self.public = (self.chat_id, self.question_id, self.topic, self.budget, self.pacing, self.on_sent)
        self.share = f"{question.chat_id}:{question.message_id}"
        self.chat_id, self.question_id, self.topic, self.private = user_id, 0, None, True
        self.budget = budget_for(str(user_id))
        drafts = draft_budget_for(str(user_id))
        self.pacing = Pacing(edits=drafts, posts=drafts)
        self.on_sent = lambda _id: None
        self.note = ""

    async def start(self) -> None:
        try:
            await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING)
        except Forbidden:  # never started kbot (or blocked it): answered in the group after all
            self.chat_id, self.question_id, self.topic, self.budget, self.pacing, self.on_sent = self.public
            self.private, self.share, self.note = False, None, NOT_STARTED
        except TelegramError:
            pass

    async def _send(self, text: str, parse_mode: str | None = None, markup: InlineKeyboardMarkup | None = None) -> None:
        if self.private:  # nothing to reply to in the private chat
            message = await self.bot.send_message(self.chat_id, text, parse_mode=parse_mode, reply_markup=markup,
                                                  link_preview_options=NO_PREVIEW)
            self.message_ids.append(message.message_id)
            return
        await super()._send(text, parse_mode, markup)

    async def finish(self, answer: Answer) -> None:
        if self.note:
            answer = replace(answer, text=f"{self.note}\n\n{answer.text}")
        await super().finish(answer)


FINAL_RETRIES = Backoff(attempts=3, first_s=1.0, cap_s=4.0)  # the waits are Telegram's own retry_after


def _telegram_wait(exc: Exception, _attempt: int) -> float | None:
    """Telegram's own wait after a RetryAfter; anything else is not retried."""
    if not isinstance(exc, RetryAfter):
        return None
    delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
