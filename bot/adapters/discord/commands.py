"""`/kb` on Discord: an application command group (typed options, an Attachment for uploads), answered
privately; job progress edits the message posted in the channel."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Literal, cast

import discord
from discord import app_commands

from bot.adapters.discord.events import PLATFORM, DiscordEvents, upload_place, workspace_of
from bot.adapters.discord.port import NO_MENTIONS
from bot.adapters.formatting import defuse_mentions
from bot.adapters.progress import ProgressDisplay
from bot.chat.commands import CHAT_COMMANDS, ChatCommand, Option
from bot.chat.commands.saved_threads import MAX_MESSAGES
from bot.core.jobs import JobView, ProgressTarget
from bot.core.messages import ThreadKey
from bot.core.pacing import EditBudgets
from bot.core.periods import MAX_DAYS
from bot.core.requests import CommandRequest, ThreadCapture, ThreadMessage, Upload
from bot.core.service import ServicePort

QUEUED = "Queued: progress is shown in the channel."


class DiscordCommands:
    """What every `/kb` subcommand does once Discord has parsed it."""

    def __init__(self, client: discord.Client, service: ServicePort, events: DiscordEvents,
                 budgets: EditBudgets, max_upload_bytes: int, public_uploads: str) -> None:
        self.client = client
        self.service = service
        self.events = events
        self.budgets = budgets
        self.max_upload_bytes = max_upload_bytes
        self.public_uploads = public_uploads
        self.progress = ProgressDisplay(budgets, self._edit_progress, lambda target: target.channel,
                                        errors=(discord.HTTPException,))

    @staticmethod
    async def _platform_admin(interaction: discord.Interaction) -> bool:
        """Members with Manage Server (or Administrator); in a DM, the person themself."""
        if interaction.guild_id is None:
            return True
        permissions = getattr(interaction, "permissions", None)
        return bool(permissions and (permissions.manage_guild or permissions.administrator))

    async def run(self, interaction: discord.Interaction, name: str, args: str,
                  attachment: discord.Attachment | None = None) -> None:
        if not await self.service.claim(PLATFORM, f"interaction:{interaction.id}"):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel: Any = interaction.channel
        user = str(interaction.user.id)
        is_admin = await self.events.admins.admin(user, lambda: self._platform_admin(interaction))
        incoming = self.events.from_interaction(interaction, args, "command", is_admin=is_admin)
        where = upload_place(interaction.guild_id, interaction.user.id, channel, self.public_uploads)
        upload = Upload(attachment.filename, attachment.size, attachment.read) if attachment is not None else None
        request = CommandRequest(incoming, args, upload_scope=where, upload=upload,
                                 max_upload_bytes=self.max_upload_bytes,
                                 thread=self._capture(channel, interaction.guild_id, interaction.user.id))

        async def post(text: str) -> ProgressTarget:
            sent: list[discord.Message] = []

            async def send() -> None:
                sent.append(await channel.send(defuse_mentions(text), allowed_mentions=NO_MENTIONS,
                                               suppress_embeds=True))

            await self.budgets[str(channel.id)].write(send)
            return ProgressTarget(PLATFORM, incoming.key.workspace, str(channel.id), str(sent[0].id))

        reply = await self.service.command(name, request, post)
        await interaction.followup.send(defuse_mentions(reply.text or QUEUED), ephemeral=True,
                                        allowed_mentions=NO_MENTIONS, suppress_embeds=True)

    def _capture(self, channel: Any, guild_id: int | None, user_id: int) -> ThreadCapture | None:
        """A thread (or a DM) can be saved: its messages are read back from Discord."""
        if isinstance(channel, discord.Thread) and guild_id:
            key = ThreadKey(PLATFORM, str(guild_id), str(channel.id), str(channel.id))
        elif guild_id is None and channel is not None:
            key = ThreadKey(PLATFORM, workspace_of(None, user_id), str(channel.id), "dm")
        else:
            return None
        me = self.client.user

        async def read() -> list[ThreadMessage]:
            found = [message async for message in channel.history(limit=MAX_MESSAGES)]
            return [ThreadMessage(message.author.display_name, self.events.text(message),
                                  by_kbot=me is not None and message.author.id == me.id)
                    for message in reversed(found)]

        link = channel.jump_url if hasattr(channel, "jump_url") else f"discord channel {channel.id}"
        return ThreadCapture(key, link, read)

    async def save_on_reaction(self, answer: discord.Message, user_id: int) -> None:
        """An admin's ✅ on kbot's answer: the thread it is in is saved, and the result posted there."""
        channel: Any = answer.channel
        guild_id = answer.guild.id if answer.guild else None
        capture = self._capture(channel, guild_id, user_id)
        incoming = replace(self.events.from_message(answer, channel), author=str(user_id), is_admin=True, text="")
        where = upload_place(guild_id, user_id, channel, self.public_uploads)
        request = CommandRequest(incoming, "", upload_scope=where, thread=capture)
        reply = await self.service.command("save", request, self._no_progress)
        sent: list[discord.Message] = []

        async def send() -> None:
            sent.append(await answer.reply(defuse_mentions(reply.text), allowed_mentions=NO_MENTIONS,
                                           suppress_embeds=True, mention_author=False))

        if reply.text:
            await self.budgets[str(channel.id)].write(send)

    @staticmethod
    async def _no_progress(text: str) -> ProgressTarget:
        raise RuntimeError("saving a thread posts no progress")

    async def show_job(self, view: JobView) -> None:
        await self.progress.show(view)

    async def _edit_progress(self, target: ProgressTarget, text: str) -> None:
        channel = self.client.get_channel(int(target.channel)) or await self.client.fetch_channel(int(target.channel))
        await channel.get_partial_message(int(target.message)).edit(  # type: ignore[union-attr]  # the target is a text channel kbot posted in
            content=defuse_mentions(text), allowed_mentions=NO_MENTIONS)


def knowledge_commands(glue: DiscordCommands) -> app_commands.Group:
    """`/kb` as an application command group, one subcommand per chat command of the table
    (bot/chat/commands), each option typed as Discord shows it."""
    group = app_commands.Group(name="kb", description="Add, list and manage kbot's documents")
    for command in CHAT_COMMANDS:
        group.add_command(app_commands.Command(name=command.name, description=command.summary,
                                               callback=cast(Any, _callback(glue, command)), parent=group))
        # cast: the callback is made at run time and carries its options in __signature__, which is
        # what discord.py reads; no static type can spell a signature built from the table.
    return group


def _option_type(option: Option) -> Any:
    """The annotation discord.py reads an option's Discord type (and choices, range) from."""
    kind: Any = {"text": str, "file": discord.Attachment, "job": int,
                 "days": app_commands.Range[int, 1, MAX_DAYS]}.get(option.kind)
    if option.kind == "choice":
        kind = Literal[option.choices]  # discord.py offers a Literal's values as the option's choices
    return kind if option.required else kind | None


def _callback(glue: DiscordCommands, command: ChatCommand) -> Callable[..., Awaitable[None]]:
    """A callback whose signature declares the command's options: discord.py builds the subcommand's
    options from it, and calls it with the values given."""

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        attachment = next((values[o.name] for o in command.options if o.kind == "file"), None)
        words = [str(values[o.name]) for o in command.options if o.kind != "file" and values.get(o.name) is not None]
        await glue.run(interaction, command.name, " ".join(words), attachment)

    interaction = inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)
    options = [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, annotation=_option_type(o),
                                 default=inspect.Parameter.empty if o.required else None)
               for o in command.options]
    callback.__signature__ = inspect.Signature([interaction, *options])  # type: ignore[attr-defined]  # read by discord.py
    callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]  # app_commands.describe's
        o.name: o.description for o in command.options}
    return callback
