"""Telegram messages -> `Incoming`: which messages are questions, their threads, scopes and places."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Message, MessageEntity
from telegram.constants import ChatType

from bot.adapters.admins import AdminRule
from bot.adapters.reply_roots import ReplyRoots
from bot.core.messages import Incoming, ThreadKey
from bot.core.scopes import visible_scopes

PLATFORM = "telegram"


def place_name(message: Message) -> str:
    if message.chat.type == ChatType.PRIVATE:
        user = message.from_user
        return f"private chat with {user.full_name if user else message.chat_id}"
    return message.chat.title or str(message.chat_id)


class TelegramEvents:
    """Translation in; `username` and `bot_id` are kbot's own (known once the bot has started)."""

    def __init__(self, admins: AdminRule, roots: ReplyRoots) -> None:
        self.admins = admins
        self.roots = roots  # (chat, kbot's message) -> its thread's root
        self.username = ""
        self.bot_id = 0

    def addressed_text(self, message: Message) -> str | None:
        """The question in a plain message, or None when it isn't addressed to kbot: every private
        message; in groups a reply to kbot, or a mention (removed from the text)."""
        return self._addressed(message, message.text or "", message.parse_entities)

    def addressed_caption(self, message: Message) -> str | None:
        """`addressed_text` for a photo, file or other media: its caption is the words, if any."""
        return self._addressed(message, message.caption or "", message.parse_caption_entities)

    def _addressed(self, message: Message, text: str,
                   entities: Callable[[list[str | None] | None], dict[MessageEntity, str]]) -> str | None:
        if message.chat.type == ChatType.PRIVATE:
            return text.strip()
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == self.bot_id:
            return text.strip()
        for entity, value in entities([MessageEntity.MENTION]).items():
            if value.lower() == f"@{self.username.lower()}":
                return (text[: entity.offset] + text[entity.offset + entity.length:]).strip()
        return None

    def thread_key(self, message: Message) -> ThreadKey:
        """A forum topic; else the reply chain's root (kbot's answers map back to their question);
        a private chat is one thread."""
        chat = str(message.chat_id)
        if message.is_topic_message and message.message_thread_id:
            thread = f"topic:{message.message_thread_id}"
        elif message.chat.type == ChatType.PRIVATE:
            thread = "dm"
        else:
            reply = message.reply_to_message
            root = self.roots.get((message.chat_id, reply.message_id)) if reply is not None else None
            thread = str(root or message.message_id)
        return ThreadKey(PLATFORM, chat, chat, thread)

    def incoming(self, message: Message, text: str, *, is_admin: bool = False) -> Incoming:
        user = str(message.from_user.id) if message.from_user else "unknown"
        return Incoming(key=self.thread_key(message), author=user, text=text,
                        scopes=visible_scopes(PLATFORM, str(message.chat_id)), raw=message,
                        is_admin=is_admin or self.admins.operator(user), operator=self.admins.operator(user),
                        place_name=place_name(message))

    def reply_root(self, message: Message, key: ThreadKey) -> int:
        return int(key.thread) if key.thread.isdigit() else message.message_id


def attached_document(message: Message) -> tuple[str, int, str] | None:
    """(file name, size, file id) of the document or photo on the message or the one it replies to
    (a photo, read with OCR, as its largest size; Telegram gives photos no name)."""
    for candidate in (message, message.reply_to_message):
        if candidate is None:
            continue
        if candidate.document is not None:
            document = candidate.document
            return document.file_name or "document", document.file_size or 0, document.file_id
        if candidate.photo:
            largest = max(candidate.photo, key=lambda size: size.width * size.height)
            return f"photo-{candidate.message_id}.jpg", largest.file_size or 0, largest.file_id
    return None


def thread_link(key: ThreadKey) -> str:
    """A supergroup thread's t.me link (to its first message, or its topic); elsewhere Telegram has
    no link, and the thread is named instead."""
    chat, thread = key.workspace, key.thread.removeprefix("topic:")
    if chat.startswith("-100") and thread.isdigit():
        return f"https://t.me/c/{chat.removeprefix('-100')}/{thread}"
    return f"telegram chat {chat}, thread {key.thread}"


def media_of(message: Message) -> tuple[list[str], list[str]]:
    """What a message carries besides text: (kinds of media, e.g. "a photo"; attached file names)."""
    kinds = [noun for attribute, noun in (
        ("photo", "a photo"), ("voice", "a voice note"), ("video_note", "a video message"), ("video", "a video"),
        ("sticker", "a sticker"), ("animation", "a GIF"), ("audio", "audio"),
    ) if getattr(message, attribute, None)]
    if message.animation:  # Telegram also sends a GIF as a document
        return kinds, []
    files = [message.document.file_name or "the file"] if message.document else []
    return kinds, files


__all__ = ["PLATFORM", "TelegramEvents", "attached_document", "media_of", "place_name", "thread_link"]
