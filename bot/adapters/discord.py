"""Discord adapter (discord.py): gateway messages and interactions in, `Incoming` out; a reply port that
edits about once a second per channel.

Needs the privileged message content intent (Developer Portal → Bot → Message Content Intent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import replace
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord_commands import DiscordCommands, is_private
from bot.adapters.formatting import defuse_mentions, to_discord_markdown
from bot.adapters.reply_roots import ReplyRoots
from bot.config import DiscordSettings
from bot.feedback import parse_vote
from bot.jobs import JobView
from bot.messages import Answer, Incoming, PortLimits, ThreadKey
from bot.scopes import visible_scopes
from bot.service import QuestionService
from bot.streaming import EditBudget, EditBudgets

log = logging.getLogger("kbot.discord")

PLATFORM = "discord"
MAX_LENGTH = 2000
NO_MENTIONS = discord.AllowedMentions.none()
THINKING = "kbot is thinking…"
EMPTY_MENTION = "Ask me a question after the mention, e.g. @kbot how many vacation days do we get?"
_FEEDBACK_PREFIX = "kbot:fb:"


class FeedbackButtons(discord.ui.View):
    """👍/👎 under a final answer; clicks are handled in `on_interaction`, so the view need not outlive sending."""

    def __init__(self, reply_id: str) -> None:
        super().__init__(timeout=1)
        for vote, emoji in (("up", "👍"), ("down", "👎")):
            self.add_item(discord.ui.Button(label=emoji, custom_id=f"{_FEEDBACK_PREFIX}{vote}:{reply_id}",
                                            style=discord.ButtonStyle.secondary))


class DiscordPort:
    """One answer in one channel or thread, as a reply to the question when there is one."""

    limits = PortLimits(max_length=MAX_LENGTH, min_edit_interval_s=1.0)

    def __init__(self, channel: discord.abc.Messageable, question: discord.Message | None, budget: EditBudget,
                 on_sent: Any) -> None:
        self.channel = channel
        self.question = question
        self.edit_budget = self.post_budget = budget  # Discord paces messages and edits per channel alike
        self.on_sent = on_sent
        self.messages: list[discord.Message] = []
        self.texts: list[str] = []

    async def start(self) -> None:
        with contextlib.suppress(discord.HTTPException):
            await self.channel.typing()

    async def _send(self, content: str, view: discord.ui.View | None = None) -> None:
        reference = None
        if self.question is not None and not self.messages:
            reference = self.question.to_reference(fail_if_not_exists=False)
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        message = await self.channel.send(content, reference=reference, mention_author=False,
                                          allowed_mentions=NO_MENTIONS, suppress_embeds=True, **kwargs)
        self.messages.append(message)
        self.texts.append(content)
        self.on_sent(message.id)

    async def _edit(self, index: int, content: str, view: discord.ui.View | None = None) -> None:
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        self.messages[index] = await self.messages[index].edit(content=content, allowed_mentions=NO_MENTIONS,
                                                               suppress=True, **kwargs)
        self.texts[index] = content

    async def update(self, index: int, text: str) -> None:
        try:
            if index < len(self.messages):
                await self._edit(index, defuse_mentions(text))
            else:
                await self._send(defuse_mentions(text))
        except discord.HTTPException as exc:
            log.warning("discord: intermediate update failed: %s", exc)

    async def finish(self, parts: list[str], answer: Answer) -> None:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            view = FeedbackButtons(answer.reply_id) if last and answer.reply_id else None
            content = to_discord_markdown(part)
            await self.edit_budget.take()
            if index < len(self.messages):
                await self._edit(index, content, view)
            else:
                await self._send(content, view)
            self.edit_budget.settle()

    async def fail(self, message: str) -> None:
        notice = f"⚠️ {message}"
        await self.edit_budget.take()
        if self.messages:
            await self._edit(len(self.messages) - 1, f"{self.texts[-1].removesuffix(' …')}\n\n{notice}")
        else:
            await self._send(notice)
        self.edit_budget.settle()


class InteractionPort(DiscordPort):
    """An answer to `/ask`: the deferred response is edited; longer answers continue as follow-ups."""

    def __init__(self, interaction: discord.Interaction, budget: EditBudget) -> None:
        super().__init__(interaction.channel, None, budget, lambda _id: None)  # type: ignore[arg-type]
        self.interaction = interaction

    async def start(self) -> None:
        if not self.interaction.response.is_done():
            await self.interaction.response.send_message(THINKING, suppress_embeds=True,
                                                         allowed_mentions=NO_MENTIONS)

    async def _send(self, content: str, view: discord.ui.View | None = None) -> None:
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        if not self.messages:
            message = await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS,
                                                                    **kwargs)
        else:
            message = await self.interaction.followup.send(content, allowed_mentions=NO_MENTIONS, wait=True,
                                                           suppress_embeds=True, **kwargs)
        self.messages.append(message)
        self.texts.append(content)

    async def _edit(self, index: int, content: str, view: discord.ui.View | None = None) -> None:
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        if index == 0:
            await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS, **kwargs)
        else:
            await self.interaction.followup.edit_message(self.messages[index].id, content=content,
                                                         allowed_mentions=NO_MENTIONS, **kwargs)
        self.texts[index] = content


class DiscordAdapter:
    name = PLATFORM

    def __init__(self, settings: DiscordSettings, token: str, service: QuestionService,
                 max_file_bytes: int = 25_000_000, public_uploads: str = "workspace") -> None:
        self.settings = settings
        self.service = service
        self._token = token
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: enable it for the bot in the Developer Portal
        self.client = discord.Client(intents=intents, allowed_mentions=NO_MENTIONS)
        self.tree = app_commands.CommandTree(self.client)
        self.budgets = EditBudgets(1, 1.0)  # about one message or edit per second per channel
        self._roots = ReplyRoots()  # kbot's message -> the question it answers
        self._task: asyncio.Task[None] | None = None
        self._receiving = False
        self._saved_endpoints = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        self.client.event(self.on_message)
        self.client.event(self.on_interaction)

        async def ask(interaction: discord.Interaction, question: str) -> None:
            await self._on_ask(interaction, question)

        self.tree.add_command(app_commands.Command(
            name="ask", description="Ask the knowledge base a question", callback=ask))
        self.commands = DiscordCommands(self.client, service, self.budgets, settings.admins, max_file_bytes,
                                        public_uploads)
        self.tree.add_command(self.commands.group())

    @property
    def connected(self) -> bool:
        return self._receiving and self.client.is_ready() and not self.client.is_closed()

    async def ready(self) -> bool:
        return self.connected

    async def start(self) -> None:
        if self.settings.base_url:  # a local or proxy API: discord.py reads these class attributes
            Route.BASE = self.settings.base_url.rstrip("/")
        await self.client.login(self._token)
        if self.settings.base_url:
            _, gateway, _ = await self.client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
        self._task = asyncio.create_task(self.client.connect(reconnect=True))
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({self._task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()
            raise ConnectionError("discord: the gateway closed during start-up")
        if ready not in done:
            ready.cancel()
            raise ConnectionError("discord: not ready within 60 s (check the token and the message content intent)")
        await self.tree.sync()
        self._receiving = True
        log.info("discord: connected as %s; /ask synced", self.client.user)

    async def stop_receiving(self) -> None:
        self._receiving = False

    async def close(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved_endpoints

    # -- translation in -------------------------------------------------------------------------------

    def _addressed(self, message: discord.Message) -> bool:
        me = self.client.user
        if message.guild is None or (me is not None and me in message.mentions):
            return True
        if isinstance(message.channel, discord.Thread) and me is not None and message.channel.owner_id == me.id:
            return True
        reference = message.reference
        if reference is None or reference.message_id is None:
            return False
        resolved = reference.resolved
        return reference.message_id in self._roots or (
            isinstance(resolved, discord.Message) and me is not None and resolved.author.id == me.id)

    def _thread_key(self, message: discord.Message, channel: Any) -> ThreadKey:
        if message.guild is None:
            return ThreadKey(PLATFORM, f"dm:{message.author.id}", str(message.channel.id), "dm")
        guild = str(message.guild.id)
        if isinstance(channel, discord.Thread):
            return ThreadKey(PLATFORM, guild, str(channel.id), str(channel.id))
        reference = message.reference.message_id if message.reference else None
        root = (self._roots.get(reference) or message.id) if reference is not None else message.id
        return ThreadKey(PLATFORM, guild, str(channel.id), str(root))

    def _scopes(self, message: discord.Message, channel: Any) -> frozenset[str]:
        if message.guild is None:
            return visible_scopes(PLATFORM, f"dm:{message.author.id}")
        parent = channel.parent if isinstance(channel, discord.Thread) and channel.parent else channel
        return visible_scopes(PLATFORM, str(message.guild.id), str(parent.id), is_private(channel))

    def _place_name(self, guild: discord.Guild | None, user: Any) -> str:
        return guild.name if guild is not None else f"DMs with {user}"

    async def on_message(self, message: discord.Message) -> None:
        if not self._receiving or message.author.bot or not self._addressed(message):
            return
        if not await self.service.claim(PLATFORM, str(message.id)):
            return  # a replayed gateway event
        me = self.client.user
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip() if me else message.content.strip()
        channel: Any = message.channel
        author = str(message.author.id)
        incoming = Incoming(key=self._thread_key(message, channel), author=author, text=text,
                            scopes=self._scopes(message, channel), is_admin=author in self.settings.admins,
                            raw=message, operator=author in self.settings.admins,
                            place_name=self._place_name(message.guild, message.author))
        opens_thread = (self.settings.thread_per_question and message.guild is not None
                        and isinstance(channel, discord.TextChannel))
        if not text or opens_thread:  # something is written before the answer: pass the gate first
            admission = await self.service.admit(incoming)
            if admission.incoming is None or not text:
                if admission.reply or admission.incoming is not None:
                    port = DiscordPort(channel, message, self.budgets[str(channel.id)], lambda _id: None)
                    await port.fail(admission.reply or EMPTY_MENTION)
                return
            channel = await message.create_thread(name=text[:90] or "question")
            incoming = replace(admission.incoming, key=self._thread_key(message, channel))
        key = incoming.key
        root = int(key.thread) if key.thread.isdigit() else message.id
        question = message if channel is message.channel else None
        budget = self.budgets[str(channel.id)]
        self.service.submit(incoming, lambda: DiscordPort(channel, question, budget, self._roots.recorder(root)),
                            admitted=opens_thread)

    async def _on_ask(self, interaction: discord.Interaction, question: str) -> None:
        if not self._receiving or not await self.service.claim(PLATFORM, f"interaction:{interaction.id}"):
            return
        channel: Any = interaction.channel
        guild = str(interaction.guild_id) if interaction.guild_id else f"dm:{interaction.user.id}"
        private = is_private(channel) if interaction.guild_id else False
        parent = channel.parent if isinstance(channel, discord.Thread) and channel.parent else channel
        thread = str(channel.id) if isinstance(channel, discord.Thread) else f"ask:{interaction.id}"
        author = str(interaction.user.id)
        incoming = Incoming(
            key=ThreadKey(PLATFORM, guild, str(channel.id) if channel else "dm", thread), author=author,
            text=question.strip(), scopes=visible_scopes(PLATFORM, guild, str(parent.id) if parent else None, private),
            is_admin=author in self.settings.admins, raw=interaction, operator=author in self.settings.admins,
            place_name=self._place_name(interaction.guild, interaction.user),
        )
        admission = await self.service.admit(incoming)  # fast (one database round trip): within the 3 s to respond
        if admission.incoming is None:  # an interaction must be answered: the refusal goes to the asker alone
            await interaction.response.send_message(
                defuse_mentions(admission.reply or "Not answered: too many questions at once; please wait."),
                ephemeral=True, suppress_embeds=True, allowed_mentions=NO_MENTIONS)
            return
        # A first message rather than a deferral: its flags (embeds suppressed) carry over to every edit,
        # while an edit of a deferred response cannot set them.
        await interaction.response.send_message(THINKING, suppress_embeds=True, allowed_mentions=NO_MENTIONS)
        budget = self.budgets[str(channel.id) if channel else author]
        self.service.submit(admission.incoming, lambda: InteractionPort(interaction, budget), admitted=True)

    async def show_job(self, view: JobView) -> None:
        await self.commands.show_job(view)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type != discord.InteractionType.component:
            return
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        if not custom_id.startswith(_FEEDBACK_PREFIX):
            return
        vote_name, _, reply_id = custom_id.removeprefix(_FEEDBACK_PREFIX).partition(":")
        vote = parse_vote(vote_name)
        if vote is None or not reply_id:
            return
        thanks = await self.service.vote(PLATFORM, reply_id, str(interaction.user.id), vote)
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(thanks, ephemeral=True, suppress_embeds=True,
                                                    allowed_mentions=NO_MENTIONS)
