"""The Discord adapter: a discord.py client and command tree; gateway messages, `/ask` and `/kb`.

Needs the privileged message content intent (Developer Portal → Bot → Message Content Intent).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from dataclasses import replace
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.errors import ConnectionClosed
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.admins import AdminRule
from bot.adapters.context import PlatformContext
from bot.adapters.discord.commands import DiscordCommands, knowledge_commands
from bot.adapters.discord.doctor import INTENT_OFF, REFUSED_TOKEN, diagnose, unreachable
from bot.adapters.discord.events import PLATFORM, DiscordEvents, media_of, workspace_of
from bot.adapters.discord.port import (
    CHANNEL_BUCKET,
    FEEDBACK_PREFIX,
    MAX_LENGTH,
    NO_MENTIONS,
    PRIVATE_THINKING,
    SHARE_PREFIX,
    THINKING,
    WHY_PREFIX,
    DirectMessagePort,
    DiscordPort,
    InteractionPort,
)
from bot.adapters.discord.settings import DiscordSettings
from bot.adapters.formatting import defuse_mentions
from bot.adapters.reply_roots import ReplyRoots
from bot.adapters.unsupported import unsupported_note
from bot.core.checks import Finding
from bot.core.clock import Clock
from bot.core.jobs import JobView
from bot.core.messages import Incoming
from bot.core.pacing import EditBudgets
from bot.core.reactions import reaction_kind
from bot.core.requests import Place
from bot.core.start_errors import refused
from bot.state.explanations import UNKNOWN
from bot.state.feedback import parse_vote

log = logging.getLogger("kbot.discord")


class _NoVoice(logging.Filter):
    """kbot never joins voice: discord.py's start-up warnings about voice libraries are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


logging.getLogger("discord.client").addFilter(_NoVoice())

EMPTY_MENTION = "Ask me a question after the mention, e.g. @kbot how many vacation days do we get?"
UPLOAD_HINT = "attach it to /kb upload"
TOO_MANY = "Not answered: too many questions at once; please wait a moment."


GUILD_READY_S = 2.0  # discord.py's wait for the last GUILD_CREATE before it calls itself ready
IDENTIFY_S = 5.0  # Discord's pause between two IDENTIFYs (discord.py's default hook sleeps as much)


class _Client(discord.Client):
    """discord.py's client with its identify pause on kbot's clock (its documented hook)."""

    clock: Clock

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await self.clock.sleep(IDENTIFY_S)


class _ShardedClient(discord.AutoShardedClient):
    clock: Clock

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await self.clock.sleep(IDENTIFY_S)


def _client(settings: DiscordSettings, intents: discord.Intents, clock: Clock) -> discord.Client:
    """One gateway connection, or the shards `discord.shards` names (all of them, or this process's)."""
    ready_wait = clock.real_seconds(GUILD_READY_S)
    client: _Client | _ShardedClient
    if settings.shards is None:
        client = _Client(intents=intents, allowed_mentions=NO_MENTIONS, guild_ready_timeout=ready_wait)
    else:
        count = None if settings.shards.count == "auto" else settings.shards.count
        chosen: dict[str, Any] = {"shard_ids": settings.shards.ids} if settings.shards.ids is not None else {}
        client = _ShardedClient(intents=intents, allowed_mentions=NO_MENTIONS, shard_count=count,
                                guild_ready_timeout=ready_wait, **chosen)
    client.clock = clock
    return client


class DiscordAdapter:
    name = PLATFORM

    def __init__(self, settings: DiscordSettings, token: str, context: PlatformContext) -> None:
        self.settings = settings
        self.service = context.service
        self._token = token
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: enable it for the bot in the Developer Portal
        self.client = _client(settings, intents, context.clock)
        self.tree = app_commands.CommandTree(self.client)
        # Discord's bucket for messages and edits in one channel: 5 per 5 s. Intermediate edits may
        # take 3 of them (the Streamer keeps half), so a final finds a free call the moment it is ready.
        self.budgets = EditBudgets(*CHANNEL_BUCKET, context.clock)
        self.roots = ReplyRoots()
        self.events = DiscordEvents(lambda: self.client.user, AdminRule(frozenset(settings.admins)), self.roots)
        self.commands = DiscordCommands(self.client, self.service, self.events, self.budgets,
                                        context.max_file_bytes, context.public_uploads)
        self.tree.add_command(app_commands.Command(name="ask", description="Ask the knowledge base a question",
                                                   callback=self._on_ask))
        self.tree.add_command(knowledge_commands(self.commands))
        self.client.event(self.on_message)
        self.client.event(self.on_interaction)
        self.client.event(self.on_raw_reaction_add)
        self._task: asyncio.Task[None] | None = None
        self._receiving = False
        self._endpoints = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._receiving and self.client.is_ready() and not self.client.is_closed()

    async def ready(self) -> bool:
        return self.connected

    def _gateway_ended(self, task: asyncio.Task[None]) -> None:
        """The gateway gave up while kbot ran (a token reset or revoked closes it with 4004): one line;
        the other platforms go on. During start-up, start() reports it instead."""
        if task.cancelled() or not self._receiving:
            return
        self._receiving = False  # /readyz says so
        exc = task.exception()
        if isinstance(exc, ConnectionClosed) and exc.code == 4004:
            log.error("discord: Discord refused the bot token while kbot was running (reset or revoked?): Discord "
                      "receives nothing until discord.token is valid again and kbot restarted; the other "
                      "platforms go on")
        elif exc is not None:
            log.error("discord: the gateway connection failed (%s): Discord receives nothing until kbot restarts; "
                      "the other platforms go on", " ".join(str(exc).split())[:160] or exc.__class__.__name__)

    async def diagnose(self) -> list[Finding]:
        if self.settings.base_url:
            Route.BASE = self.settings.base_url.rstrip("/")
        try:
            return await diagnose(self.client, self._token, self.settings.base_url)
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._endpoints

    async def start(self) -> None:
        # discord.py has no per-client API base: a local or proxy API (discord.base_url) is set on its
        # classes for this process, and put back on close.
        if self.settings.base_url:
            Route.BASE = self.settings.base_url.rstrip("/")
        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            raise refused(REFUSED_TOKEN, "discord.token") from None
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise refused(unreachable(self.settings.base_url, exc), "discord.base_url") from None
        if self.settings.base_url:
            _, gateway, _ = await self.client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
        self._task = asyncio.create_task(self.client.connect(reconnect=True))
        self._task.add_done_callback(self._gateway_ended)
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({self._task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            try:
                self._task.result()
            except discord.PrivilegedIntentsRequired:
                raise refused(INTENT_OFF, "discord.token") from None
            raise ConnectionError("discord: the gateway closed during start-up")
        if ready not in done:
            ready.cancel()
            raise ConnectionError("discord: not ready within 60 s (check the token and the message content intent)")
        if self._runs_shard_zero:  # one process syncs the global commands, not every shard's
            await self.tree.sync()
        self._receiving = True
        log.info("discord: connected as %s; /ask and /kb synced", self.client.user)

    @property
    def _runs_shard_zero(self) -> bool:
        shards = self.settings.shards
        return shards is None or shards.ids is None or 0 in shards.ids

    async def stop_receiving(self) -> None:
        self._receiving = False

    async def close(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._endpoints

    async def show_job(self, view: JobView) -> None:
        await self.commands.show_job(view)

    async def post_report(self, channel: str, text: str, image: bytes) -> None:
        """The coverage digest, its chart attached; `@ID` is a person, written to in a DM."""
        target: Any
        if channel.startswith("@"):
            target = await self.client.create_dm(discord.Object(int(channel[1:])))
        else:
            target = self.client.get_channel(int(channel)) or await self.client.fetch_channel(int(channel))
        chart = discord.File(io.BytesIO(image), filename="kbot-digest.png")
        await self.budgets[str(target.id)].write(lambda: target.send(
            defuse_mentions(text)[:MAX_LENGTH], file=chart, allowed_mentions=NO_MENTIONS, suppress_embeds=True))

    # -- events ----------------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if not self._receiving or message.author.bot or not self.events.addressed(message):
            return
        if not await self.service.claim(PLATFORM, str(message.id)):
            return  # a replayed gateway event
        await self._take(message, self.events.from_message(message, message.channel), *media_of(message))

    async def _take(self, message: discord.Message, incoming: Incoming, media: list[str], files: list[str],
                    *, may_be_private: bool = True) -> None:
        """Answer `message` (replying to it, or in a thread opened on it), after what kbot cannot read;
        where the channel is private_first, in the asker's DM instead (`may_be_private`)."""
        channel: Any = message.channel
        opens_thread = (self.settings.thread_per_question and message.guild is not None
                        and isinstance(channel, discord.TextChannel))
        admitted = not incoming.text or opens_thread or bool(media or files)
        if admitted:  # something is written before the answer: pass the gate first
            admission = await self.service.admit(incoming)
            if admission.incoming is None:
                if admission.reply:
                    await self._say(channel, message, admission.reply)
                return
            if media or files:
                await self._say(channel, message, unsupported_note(media, files, UPLOAD_HINT,
                                                                   answering=bool(incoming.text)))
            if not incoming.text:
                if not (media or files):
                    await self._say(channel, message, EMPTY_MENTION)
                return
            incoming = admission.incoming
            if opens_thread and not (may_be_private and self.service.private_first(incoming)):
                channel = await message.create_thread(name=incoming.text[:90] or "question")
                incoming = replace(incoming, key=self.events.thread_key(message, channel))
        key = incoming.key
        root = int(key.thread) if key.thread.isdigit() else message.id
        question = message if channel is message.channel else None
        budget = self.budgets[str(channel.id)]
        private = None
        if may_be_private and message.guild is not None and question is not None:  # a DM is private already
            def private() -> DiscordPort:
                return DirectMessagePort(message.author, message, budget, self.budgets.__getitem__,
                                         self.roots.recorder(root))
        self.service.submit(incoming, lambda: DiscordPort(channel, question, budget, self.roots.recorder(root)),
                            admitted=admitted, private_port=private)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """❓ on a person's message: kbot answers it (as a reply), once however many react. ✅ by an
        admin (Manage Server, or listed in `discord.admins`) on kbot's answer: its thread is saved."""
        kind = reaction_kind(payload.emoji.name)
        me = self.client.user
        if not self._receiving or kind is None or me is None or payload.user_id == me.id:
            return
        user, member = str(payload.user_id), payload.member
        if kind == "save":
            async def manages() -> bool:
                return payload.guild_id is None or bool(member and (member.guild_permissions.manage_guild
                                                                    or member.guild_permissions.administrator))

            if not await self.events.admins.admin(user, manages):
                return
        elif not await self.service.claim(PLATFORM, f"ask:{payload.message_id}"):
            return
        try:
            channel: Any = self.client.get_channel(payload.channel_id) or await self.client.fetch_channel(
                payload.channel_id)
            message = await channel.fetch_message(payload.message_id)
        except discord.HTTPException:
            return
        if (message.author.id == me.id) != (kind == "save"):
            return  # ❓ is for people's messages, ✅ for kbot's answers
        if kind == "save":
            await self.commands.save_on_reaction(message, payload.user_id)
            return
        incoming = replace(self.events.from_message(message, channel), author=user)
        if incoming.text:  # answered as if it had been asked of kbot, by whoever reacted
            await self._take(message, incoming, [], [], may_be_private=False)  # ❓ asks for a thread answer

    async def _say(self, channel: Any, message: discord.Message, text: str) -> None:
        """A short reply to `message` before (or instead of) an answer."""
        await DiscordPort(channel, message, self.budgets[str(channel.id)], lambda _id: None).fail(text)

    async def _on_ask(self, interaction: discord.Interaction, question: str) -> None:
        """`/ask question:…` — answered in the interaction's own response."""
        if not self._receiving or not await self.service.claim(PLATFORM, f"interaction:{interaction.id}"):
            return
        channel: Any = interaction.channel
        thread = str(channel.id) if isinstance(channel, discord.Thread) else f"ask:{interaction.id}"
        admission = await self.service.admit(self.events.from_interaction(interaction, question.strip(), thread))
        if admission.incoming is None:  # an interaction must be answered: the refusal goes to the asker alone
            await interaction.response.send_message(defuse_mentions(admission.reply or TOO_MANY), ephemeral=True,
                                                    suppress_embeds=True, allowed_mentions=NO_MENTIONS)
            return
        # A first message rather than a deferral: its flags (embeds suppressed) carry over to every edit,
        # while an edit of a deferred response cannot set them.
        private = interaction.guild_id is not None and self.service.private_first(admission.incoming)
        await interaction.response.send_message(PRIVATE_THINKING if private else THINKING, suppress_embeds=True,
                                                allowed_mentions=NO_MENTIONS, ephemeral=private)
        budget = self.budgets[str(channel.id) if channel else str(interaction.user.id)]
        self.service.submit(admission.incoming, lambda: InteractionPort(interaction, budget, private=private),
                            admitted=True)

    async def _on_share(self, interaction: discord.Interaction, target: str) -> None:
        """"Share with the channel" on a private answer: posted where it was asked (replying to the
        question), by the asker only, once."""
        reply_id, _, place = target.partition(":")
        channel_id, _, question_id = place.partition(":")
        answer = await self.service.share(PLATFORM, reply_id, str(interaction.user.id), channel_id)
        if not isinstance(answer, str) and not await self.service.claim(PLATFORM, f"share:{reply_id}"):
            answer = "That answer was shared already."
        if isinstance(answer, str) or not channel_id.isdigit():
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.send_message(str(answer), ephemeral=True, suppress_embeds=True,
                                                        allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(ephemeral=True)
        try:
            channel: Any = self.client.get_channel(int(channel_id)) or await self.client.fetch_channel(int(channel_id))
        except discord.HTTPException:
            return
        question = channel.get_partial_message(int(question_id)) if question_id.isdigit() and int(question_id) else None
        root = question.id if question is not None else 0
        port = DiscordPort(channel, question, self.budgets[str(channel.id)], self.roots.recorder(root))
        await port.finish(answer)
        with contextlib.suppress(discord.HTTPException):
            await interaction.followup.send("Shared with the channel.", ephemeral=True, allowed_mentions=NO_MENTIONS,
                                            suppress_embeds=True)

    async def _on_why(self, interaction: discord.Interaction, reply_id: str) -> None:
        """Shown to the one who clicked only (an ephemeral response)."""
        place = Place(PLATFORM, workspace_of(interaction.guild_id, interaction.user.id),
                      str(interaction.channel_id))
        text = await self.service.explain(place, reply_id) or UNKNOWN
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(defuse_mentions(text), ephemeral=True, suppress_embeds=True,
                                                    allowed_mentions=NO_MENTIONS)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """👍/👎 and "why these sources?" clicks (application commands are the command tree's)."""
        if interaction.type != discord.InteractionType.component:
            return
        custom_id = str(interaction.data.get("custom_id", "")) if interaction.data else ""
        if custom_id.startswith(WHY_PREFIX):
            await self._on_why(interaction, custom_id.removeprefix(WHY_PREFIX))
            return
        if custom_id.startswith(SHARE_PREFIX):
            await self._on_share(interaction, custom_id.removeprefix(SHARE_PREFIX))
            return
        if not custom_id.startswith(FEEDBACK_PREFIX):
            return
        vote_name, _, reply_id = custom_id.removeprefix(FEEDBACK_PREFIX).partition(":")
        vote = parse_vote(vote_name)
        if vote is None or not reply_id:
            return
        thanks = await self.service.vote(PLATFORM, reply_id, str(interaction.user.id), vote)
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(thanks, ephemeral=True, suppress_embeds=True,
                                                    allowed_mentions=NO_MENTIONS)
