"""Discord side of the `/kb` commands: an application command group, and job progress edits."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot import commands
from bot.adapters.formatting import defuse_mentions
from bot.commands import CommandRequest, Upload
from bot.jobs import JobView
from bot.messages import Incoming, ThreadKey
from bot.scopes import channel_scope, visible_scopes, workspace_scope
from bot.service import QuestionService
from bot.streaming import EditBudgets

log = logging.getLogger("kbot.discord")

PLATFORM = "discord"
NO_MENTIONS = discord.AllowedMentions.none()


def is_private(channel: Any) -> bool:
    """A channel @everyone may not view (from the gateway's own channel data, never the message text)."""
    parent = getattr(channel, "parent", None) if isinstance(channel, discord.Thread) else channel
    guild = getattr(parent, "guild", None)
    if parent is None or guild is None or not hasattr(parent, "overwrites_for"):
        return False
    return parent.overwrites_for(guild.default_role).view_channel is False


class DiscordCommands:
    def __init__(self, client: discord.Client, service: QuestionService, budgets: EditBudgets, admins: list[str],
                 max_file_bytes: int, public_uploads: str = "workspace") -> None:
        self.client = client
        self.service = service
        self.budgets = budgets
        self.admins = admins
        self.max_file_bytes = max_file_bytes
        self.public_uploads = public_uploads

    def group(self) -> app_commands.Group:
        """`/kb upload|add|status|list|delete|scope|help`, each a subcommand with typed options."""
        kb = app_commands.Group(name="kb", description="Add, list and manage kbot's documents")

        async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
            await self.run(interaction, "upload", "", file)

        async def add(interaction: discord.Interaction, url: str) -> None:
            await self.run(interaction, "add", url)

        async def status(interaction: discord.Interaction, job: int | None = None) -> None:
            await self.run(interaction, "status", "" if job is None else str(job))

        async def delete(interaction: discord.Interaction, document: str) -> None:
            await self.run(interaction, "delete", document)

        async def approve(interaction: discord.Interaction, code: str) -> None:
            await self.run(interaction, "approve", code)

        async def simple(interaction: discord.Interaction) -> None:
            await self.run(interaction, interaction.command.name if interaction.command else "help", "")

        described = {"upload": "Index an attached file", "add": "Fetch a web page and index it",
                     "status": "Running and recent indexing jobs", "delete": "Remove a document (admins)",
                     "approve": "Let a new server or DM use kbot (kbot's own admins)"}
        for name, callback in (("upload", upload), ("add", add), ("status", status), ("delete", delete),
                               ("approve", approve)):
            kb.add_command(app_commands.Command(name=name, description=described[name], callback=callback))
        for name, what in (("list", "Documents answerable here"), ("scope", "Which knowledge this channel uses"),
                           ("help", "What each command does")):
            kb.add_command(app_commands.Command(name=name, description=what, callback=simple))
        return kb

    def _is_admin(self, interaction: discord.Interaction) -> bool:
        """Configured admins and members with Manage Server; in a DM, the person themself."""
        if str(interaction.user.id) in self.admins or interaction.guild_id is None:
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
        guild = str(interaction.guild_id) if interaction.guild_id else f"dm:{user}"
        private = interaction.guild_id is not None and is_private(channel)
        parent = channel.parent if isinstance(channel, discord.Thread) and channel.parent else channel
        scopes = visible_scopes(PLATFORM, guild, str(parent.id), private)
        own = private or (self.public_uploads == "channel" and interaction.guild_id is not None)
        where = channel_scope(PLATFORM, guild, str(parent.id)) if own else workspace_scope(PLATFORM, guild)
        upload = None
        if attachment is not None:
            upload = Upload(attachment.filename, attachment.size, attachment.read)
        incoming = Incoming(ThreadKey(PLATFORM, guild, str(channel.id), "command"), user, args, scopes,
                            is_admin=self._is_admin(interaction), operator=user in self.admins,
                            place_name=interaction.guild.name if interaction.guild else f"DMs with {interaction.user}")
        request = CommandRequest(incoming, args, upload_scope=where, upload=upload,
                                 max_upload_bytes=self.max_file_bytes)

        async def post(text: str) -> dict:
            budget = self.budgets[str(channel.id)]
            await budget.take()
            sent = await channel.send(defuse_mentions(text), allowed_mentions=NO_MENTIONS, suppress_embeds=True)
            budget.settle()
            return {"platform": PLATFORM, "channel": channel.id, "message": sent.id}

        reply = await self.service.command(name, request, post)
        await interaction.followup.send(defuse_mentions(reply.text or "Queued: progress is shown in the channel."),
                                        ephemeral=True, allowed_mentions=NO_MENTIONS, suppress_embeds=True)

    async def show_job(self, view: JobView) -> None:
        """Edit the job's message about once a second per channel (the end always gets through)."""
        channel_id, message_id = view.target.get("channel"), view.target.get("message")
        if channel_id is None or message_id is None:
            return
        budget = self.budgets[str(channel_id)]
        if not await budget.acquire(must=view.ended):
            return
        channel = self.client.get_channel(int(channel_id)) or await self.client.fetch_channel(int(channel_id))
        try:
            await channel.get_partial_message(int(message_id)).edit(  # type: ignore[union-attr]
                content=defuse_mentions(view.describe()), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("discord: could not show job progress: %s", exc)
        budget.settle()


__all__ = ["DiscordCommands", "is_private", "commands"]
