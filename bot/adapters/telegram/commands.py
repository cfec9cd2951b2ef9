"""`/kb` on Telegram: a command in a message, or in a document's caption; progress edits in the chat."""

from __future__ import annotations

from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError

from bot.adapters.formatting import defuse_mentions
from bot.adapters.progress import ProgressDisplay
from bot.adapters.telegram.events import PLATFORM, TelegramEvents, attached_document, thread_link
from bot.core.jobs import JobView, ProgressTarget
from bot.core.pacing import EditBudgets
from bot.core.requests import CommandRequest, ThreadCapture, Upload
from bot.core.scopes import workspace_scope
from bot.core.service import ServicePort

BOT_API_DOWNLOAD_CAP = 20 * 1024 * 1024  # getFile refuses bigger files on the public Bot API
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class TelegramCommands:
    def __init__(self, bot: Bot, service: ServicePort, events: TelegramEvents, budgets: EditBudgets,
                 max_upload_bytes: int) -> None:
        self.bot = bot
        self.service = service
        self.events = events
        self.budgets = budgets
        self.max_upload_bytes = max_upload_bytes
        self.progress = ProgressDisplay(budgets, self._edit_progress, lambda target: target.channel,
                                        errors=(TelegramError,))

    async def _platform_admin(self, message: Message) -> bool:
        """Anyone in their own private chat, and the chat's administrators (asked every time)."""
        user = message.from_user
        if user is None:
            return False
        if message.chat.type == ChatType.PRIVATE:
            return True
        try:
            member = await self.bot.get_chat_member(message.chat_id, user.id)
        except TelegramError:
            return False
        return member.status in ("administrator", "creator")

    def _upload(self, message: Message) -> Upload | None:
        found = attached_document(message)
        if found is None:
            return None
        name, size, file_id = found

        async def download() -> bytes:
            file = await self.bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

        return Upload(name, size, download)

    async def run(self, message: Message, name: str, args: str) -> None:
        user = str(message.from_user.id) if message.from_user else "unknown"
        is_admin = await self.events.admins.admin(user, lambda: self._platform_admin(message))
        incoming = self.events.incoming(message, message.text or message.caption or "", is_admin=is_admin)
        # Bots read no chat history on Telegram: a saved thread is what kbot remembers of it.
        request = CommandRequest(incoming, args, upload_scope=workspace_scope(PLATFORM, str(message.chat_id)),
                                 upload=self._upload(message), max_upload_bytes=self.max_upload_bytes,
                                 thread=ThreadCapture(incoming.key, thread_link(incoming.key)))
        topic = message.message_thread_id if message.is_topic_message else None

        async def post(text: str) -> ProgressTarget:
            sent = await self.say(message, text)
            chat = str(message.chat_id)
            return ProgressTarget(PLATFORM, chat, chat, str(sent.message_id), None if topic is None else str(topic))

        reply = await self.service.command(name, request, post)
        if reply.text:
            await self.say(message, reply.text)

    async def say(self, message: Message, text: str) -> Message:
        """A plain reply, drawing on the chat's budget like answers do."""
        sent: list[Message] = []

        async def reply() -> None:
            sent.append(await message.reply_text(defuse_mentions(text), link_preview_options=NO_PREVIEW))

        await self.budgets[str(message.chat_id)].write(reply)
        return sent[0]

    async def show_job(self, view: JobView) -> None:
        await self.progress.show(view)

    async def _edit_progress(self, target: ProgressTarget, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, int(target.channel), int(target.message),
                                             link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise


def download_cap(max_file_bytes: int, local_bot_api: bool) -> int:
    """The Bot API downloads at most 20 MB; a local Bot API server (telegram.base_url) has no such cap."""
    return max_file_bytes if local_bot_api else min(max_file_bytes, BOT_API_DOWNLOAD_CAP)
