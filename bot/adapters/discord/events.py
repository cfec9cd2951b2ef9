"""Discord messages and interactions -> `Incoming`: what is addressed to kbot, threads, scopes, places."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import discord

from bot.adapters.admins import AdminRule
from bot.adapters.reply_roots import ReplyRoots
from bot.core.messages import Incoming, ThreadKey
from bot.core.scopes import channel_scope, upload_scope, visible_scopes, workspace_scope

PLATFORM = "discord"


def _hidden_from_everyone(channel: Any) -> bool:
    """@everyone may not view it, whatever the reason: the server's base permissions for @everyone,
    the channel's own overwrites (a category's, when synced, are copied onto its channels). A
    channel kbot cannot see the permissions of counts as hidden: the narrower answer."""
    guild = getattr(channel, "guild", None)
    if guild is None or not hasattr(channel, "permissions_for"):
        return True
    return not channel.permissions_for(guild.default_role).view_channel


def private_places(channel: Any) -> list[Any]:
    """The places around a server channel or thread that only part of the server can see, innermost
    first: a private thread (its members), and a channel @everyone cannot view. A thread's own
    visibility counts, and so does its channel's. Decided from the gateway's channel data, never
    from message text."""
    places: list[Any] = []
    if isinstance(channel, discord.Thread):
        if channel.type is discord.ChannelType.private_thread or channel.parent is None:
            places.append(channel)  # a thread whose channel kbot cannot see is kept to itself
        channel = channel.parent
    if channel is not None and _hidden_from_everyone(channel):
        places.append(channel)
    return places


def parent_of(channel: Any) -> Any:
    """A thread's channel (a public thread's scope is its channel's); a channel is its own."""
    return channel.parent if isinstance(channel, discord.Thread) and channel.parent else channel


def upload_place(guild_id: int | None, user_id: int, channel: Any, public_uploads: str) -> str:
    """Where a document uploaded (or a thread saved) here lands: the innermost private place when
    there is one (a private thread keeps it to its members, not to its channel); else the server, or
    the channel with `jobs.public_uploads: channel`; a DM keeps it to that person's DMs."""
    if not guild_id:
        return workspace_scope(PLATFORM, workspace_of(None, user_id))
    private = private_places(channel)
    if private:
        return channel_scope(PLATFORM, str(guild_id), str(private[0].id))
    return upload_scope(PLATFORM, str(guild_id), str(parent_of(channel).id), False, public_uploads)


def place_name(guild: discord.Guild | None, user: Any) -> str:
    return guild.name if guild is not None else f"DMs with {user}"


def workspace_of(guild_id: int | None, user_id: int) -> str:
    """A server, or one person's DMs (`dm:<user>`)."""
    return str(guild_id) if guild_id else f"dm:{user_id}"


def scopes_for(guild_id: int | None, user_id: int, channel: Any) -> frozenset[str]:
    """What an asker here may retrieve: global, the server's, and each private place they are in."""
    if not guild_id:
        return visible_scopes(PLATFORM, workspace_of(None, user_id))
    guild = str(guild_id)
    private = {channel_scope(PLATFORM, guild, str(place.id)) for place in private_places(channel)}
    return visible_scopes(PLATFORM, guild) | private


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
    """Translation in. `me`: kbot's own user, once logged in (the client's `user`)."""

    def __init__(self, me: Callable[[], discord.ClientUser | None], admins: AdminRule, roots: ReplyRoots) -> None:
        self.me = me
        self.admins = admins
        self.roots = roots  # kbot's message -> the question it answers

    def addressed(self, message: discord.Message) -> bool:
        """A DM, a mention, a message in a thread kbot opened, or a reply to kbot."""
        me = self.me()
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
        me = self.me()
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
