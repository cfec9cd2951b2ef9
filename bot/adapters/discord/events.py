"""Discord messages and interactions -> `Incoming`: what is addressed to kbot, threads, scopes, places."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.adapters.admins import AdminRule
from bot.adapters.reply_roots import ReplyRoots
from bot.messages import Incoming, ThreadKey
from bot.scopes import visible_scopes

PLATFORM = "discord"


def is_private(channel: Any) -> bool:
    """A channel @everyone may not view (from the gateway's own channel data, never the message text)."""
    parent = getattr(channel, "parent", None) if isinstance(channel, discord.Thread) else channel
    guild = getattr(parent, "guild", None)
    if parent is None or guild is None or not hasattr(parent, "overwrites_for"):
        return False
    return parent.overwrites_for(guild.default_role).view_channel is False


def parent_of(channel: Any) -> Any:
    """A thread's channel (scopes and privacy are the channel's); a channel is its own."""
    return channel.parent if isinstance(channel, discord.Thread) and channel.parent else channel


def place_name(guild: discord.Guild | None, user: Any) -> str:
    return guild.name if guild is not None else f"DMs with {user}"


def workspace_of(guild_id: int | None, user_id: int) -> str:
    """A server, or one person's DMs (`dm:<user>`)."""
    return str(guild_id) if guild_id else f"dm:{user_id}"


def scopes_for(guild_id: int | None, user_id: int, channel: Any) -> frozenset[str]:
    if not guild_id:
        return visible_scopes(PLATFORM, workspace_of(None, user_id))
    parent = parent_of(channel)
    return visible_scopes(PLATFORM, str(guild_id), str(parent.id) if parent else None, is_private(channel))


def media_of(message: discord.Message) -> tuple[list[str], list[str]]:
    """What a message carries besides text: (kinds of media, e.g. "a photo"; other attached file names)."""
    kinds: list[str] = []
    files: list[str] = []
    for attachment in message.attachments:
        content_type = (attachment.content_type or "").split(";")[0]
        if attachment.is_voice_message():
            kinds.append("a voice note")
        elif content_type.startswith(("image/", "video/", "audio/")):
            kinds.append({"image": "a photo", "video": "a video", "audio": "audio"}[content_type.split("/")[0]])
        else:
            files.append(attachment.filename)
    if message.stickers:
        kinds.append("a sticker")
    return list(dict.fromkeys(kinds)), files


class DiscordEvents:
    def __init__(self, client: discord.Client, admins: AdminRule, roots: ReplyRoots) -> None:
        self.client = client
        self.admins = admins
        self.roots = roots  # kbot's message -> the question it answers

    def addressed(self, message: discord.Message) -> bool:
        """A DM, a mention, a message in a thread kbot opened, or a reply to kbot."""
        me = self.client.user
        if message.guild is None or (me is not None and me in message.mentions):
            return True
        if isinstance(message.channel, discord.Thread) and me is not None and message.channel.owner_id == me.id:
            return True
        reference = message.reference
        if reference is None or reference.message_id is None:
            return False
        resolved = reference.resolved
        return reference.message_id in self.roots or (
            isinstance(resolved, discord.Message) and me is not None and resolved.author.id == me.id)

    def text(self, message: discord.Message) -> str:
        me = self.client.user
        return re.sub(rf"<@!?{me.id}>", "", message.content).strip() if me else message.content.strip()

    def thread_key(self, message: discord.Message, channel: Any) -> ThreadKey:
        """A thread is one; a DM is one; else the reply chain's root (kbot's answers map back)."""
        if message.guild is None:
            return ThreadKey(PLATFORM, workspace_of(None, message.author.id), str(message.channel.id), "dm")
        guild = str(message.guild.id)
        if isinstance(channel, discord.Thread):
            return ThreadKey(PLATFORM, guild, str(channel.id), str(channel.id))
        reference = message.reference.message_id if message.reference else None
        root = (self.roots.get(reference) or message.id) if reference is not None else message.id
        return ThreadKey(PLATFORM, guild, str(channel.id), str(root))

    def from_message(self, message: discord.Message, channel: Any) -> Incoming:
        author = str(message.author.id)
        return Incoming(key=self.thread_key(message, channel), author=author, text=self.text(message),
                        scopes=scopes_for(message.guild.id if message.guild else None, message.author.id, channel),
                        is_admin=self.admins.operator(author), raw=message, operator=self.admins.operator(author),
                        place_name=place_name(message.guild, message.author))

    def from_interaction(self, interaction: discord.Interaction, text: str, thread: str,
                         is_admin: bool = False) -> Incoming:
        channel: Any = interaction.channel
        author = str(interaction.user.id)
        workspace = workspace_of(interaction.guild_id, interaction.user.id)
        return Incoming(
            key=ThreadKey(PLATFORM, workspace, str(channel.id) if channel else "dm", thread), author=author,
            text=text, scopes=scopes_for(interaction.guild_id, interaction.user.id, channel),
            is_admin=is_admin or self.admins.operator(author), raw=interaction, operator=self.admins.operator(author),
            place_name=place_name(interaction.guild, interaction.user),
        )
