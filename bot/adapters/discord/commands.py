"""`/kb` on Discord: an application command group (typed options, an Attachment for uploads), answered
privately; job progress edits the message posted in the channel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import discord
from discord import app_commands

from bot.adapters.discord.events import PLATFORM, DiscordEvents, upload_place, workspace_of
from bot.adapters.discord.port import NO_MENTIONS
from bot.adapters.formatting import defuse_mentions
from bot.adapters.progress import ProgressDisplay
from bot.commands.saved_threads import MAX_MESSAGES
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
        await channel.get_partial_message(int(target.message)).edit(  # type: ignore[union-attr]
            content=defuse_mentions(text), allowed_mentions=NO_MENTIONS)


class KnowledgeCommands(app_commands.Group):
    """`/kb upload|add|status|list|delete|scope|preset|approve|gaps|stats|save|visibility|help`."""

    def __init__(self, run: DiscordCommands) -> None:
        super().__init__(name="kb", description="Add, list and manage kbot's documents")
        self.glue = run

    @app_commands.command(description="Index an attached file")
    async def upload(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        await self.glue.run(interaction, "upload", "", file)

    @app_commands.command(description="Fetch a web page and index it")
    async def add(self, interaction: discord.Interaction, url: str) -> None:
        await self.glue.run(interaction, "add", url)

    @app_commands.command(description="Running and recent indexing jobs")
    async def status(self, interaction: discord.Interaction, job: int | None = None) -> None:
        await self.glue.run(interaction, "status", "" if job is None else str(job))

    @app_commands.command(name="list", description="Documents answerable here")
    async def list_(self, interaction: discord.Interaction) -> None:
        await self.glue.run(interaction, "list", "")

    @app_commands.command(description="Remove a document (admins)")
    async def delete(self, interaction: discord.Interaction, document: str) -> None:
        await self.glue.run(interaction, "delete", document)

    @app_commands.command(description="Which knowledge this channel uses; admins switch parts off and on")
    async def scope(self, interaction: discord.Interaction, knowledge: Literal["global", "workspace"] | None = None,
                    state: Literal["on", "off"] | None = None) -> None:
        await self.glue.run(interaction, "scope", " ".join(part for part in (knowledge, state) if part))

    @app_commands.command(description="How hard answers here search; admins choose fast, balanced or accurate")
    async def preset(self, interaction: discord.Interaction,
                     choice: Literal["fast", "balanced", "accurate", "default"] | None = None) -> None:
        await self.glue.run(interaction, "preset", choice or "")

    @app_commands.command(description="Let a new server or DM use kbot (kbot's own admins)")
    async def approve(self, interaction: discord.Interaction, code: str) -> None:
        await self.glue.run(interaction, "approve", code)

    @app_commands.command(description="Questions the documents could not answer well (admins: the whole server)")
    async def gaps(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, MAX_DAYS] | None = None,
                   ) -> None:
        await self.glue.run(interaction, "gaps", "" if days is None else str(days))

    @app_commands.command(description="Questions, answered share, votes, new documents and the top gaps")
    async def stats(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, MAX_DAYS] | None = None,
                    ) -> None:
        await self.glue.run(interaction, "stats", "" if days is None else str(days))

    @app_commands.command(description="Answers here for everyone, or to the asker first; admins choose")
    async def visibility(self, interaction: discord.Interaction,
                         choice: Literal["public", "private_first", "default"] | None = None) -> None:
        await self.glue.run(interaction, "visibility", choice or "")

    @app_commands.command(description="Keep this thread as a document answerable here (run it in the thread)")
    async def save(self, interaction: discord.Interaction) -> None:
        await self.glue.run(interaction, "save", "")

    @app_commands.command(name="help", description="What each command does")
    async def help_(self, interaction: discord.Interaction) -> None:
        await self.glue.run(interaction, "help", "")
