"""Discord messages -> `Incoming`: which messages are questions, their threads, and the scopes an
asker gets from the channel data (a private thread or a hidden channel is a place of its own).
Real discord.py objects, built by discord.py's own state from gateway payloads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import discord
import pytest
from discord.http import HTTPClient
from discord.state import ConnectionState

from bot.adapters.admins import AdminRule
from bot.adapters.discord.events import DiscordEvents, private_places, upload_place
from bot.adapters.reply_roots import ReplyRoots
from bot.core.scopes import GLOBAL

GUILD, EVERYONE, PUBLIC, HIDDEN, KBOT, ASKER = 800, 800, 810, 820, 900, 700
VIEW_CHANNEL = 1 << 10
USER = {"id": str(ASKER), "username": "asker", "discriminator": "0", "global_name": None, "avatar": None}
ME = {"id": str(KBOT), "username": "kbot", "discriminator": "0", "global_name": None, "avatar": None, "bot": True}


def _channel(channel_id: int, *, hidden: bool = False) -> dict[str, Any]:
    overwrites = [{"id": str(EVERYONE), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)}] if hidden else []
    return {"id": str(channel_id), "type": 0, "name": f"c{channel_id}", "position": 0, "guild_id": str(GUILD),
            "permission_overwrites": overwrites}


def _thread(thread_id: int, parent: int, *, private: bool, owner: int = ASKER) -> dict[str, Any]:
    metadata = {"archived": False, "auto_archive_duration": 1440, "locked": False,
                "archive_timestamp": "2026-01-01T00:00:00+00:00"}
    return {"id": str(thread_id), "type": 12 if private else 11, "guild_id": str(GUILD), "parent_id": str(parent),
            "owner_id": str(owner), "name": "t", "message_count": 1, "member_count": 1, "thread_metadata": metadata}


@pytest.fixture
def state() -> Iterator[ConnectionState]:
    loop = asyncio.new_event_loop()
    http = HTTPClient(loop)
    connection = ConnectionState(dispatch=lambda *a, **k: None, handlers={}, hooks={}, http=http,
                                 intents=discord.Intents.default(), chunk_guilds_at_startup=False)
    connection.user = discord.ClientUser(state=connection, data=ME)
    guild = discord.Guild(data={  # a gateway GUILD_CREATE payload, trimmed
        "id": str(GUILD), "name": "Guild", "owner_id": "1", "features": [], "emojis": [], "stickers": [],
        "roles": [{"id": str(EVERYONE), "name": "@everyone", "permissions": str(VIEW_CHANNEL), "position": 0,
                   "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
        "channels": [_channel(PUBLIC), _channel(HIDDEN, hidden=True)],
        "threads": [_thread(811, PUBLIC, private=False), _thread(812, PUBLIC, private=True),
                    _thread(813, PUBLIC, private=False, owner=KBOT)],
        "members": [], "member_count": 1, "preferred_locale": "en-US"}, state=connection)
    connection._add_guild(guild)
    yield connection
    loop.run_until_complete(http.close())
    loop.close()


def _message(state: ConnectionState, channel_id: int, content: str, *, mentions: list[dict[str, Any]] | None = None,
             reference: int | None = None, message_id: int = 1000) -> discord.Message:
    guild = state._get_guild(GUILD)
    assert guild is not None
    channel = guild.get_channel_or_thread(channel_id)
    data: dict[str, Any] = {
        "id": str(message_id), "channel_id": str(channel_id), "guild_id": str(GUILD), "author": USER,
        "content": content, "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": mentions or [], "mention_roles": [], "attachments": [], "embeds": [],
        "pinned": False, "type": 0}
    if reference is not None:
        data["message_reference"] = {"message_id": str(reference), "channel_id": str(channel_id)}
    return discord.Message(state=state, channel=channel, data=data)


def _events(state: ConnectionState, operators: frozenset[str] = frozenset()) -> DiscordEvents:
    return DiscordEvents(lambda: state.user, AdminRule(operators), ReplyRoots())


def test_a_mention_a_reply_to_kbots_answer_or_kbots_thread_is_a_question(state: ConnectionState) -> None:
    events = _events(state)
    assert not events.addressed(_message(state, PUBLIC, "lunch?"))
    mention = _message(state, PUBLIC, f"<@{KBOT}> how many days?", mentions=[ME])
    assert events.addressed(mention) and events.text(mention) == "how many days?"
    events.roots.recorder(1000)(1001)  # kbot's answer 1001 belongs to question 1000
    follow_up = _message(state, PUBLIC, "and sick days?", reference=1001, message_id=1002)
    assert events.addressed(follow_up)
    assert events.thread_key(follow_up, follow_up.channel).thread == "1000"
    assert events.addressed(_message(state, 813, "more?"))  # a thread kbot opened
    assert not events.addressed(_message(state, 811, "chatting"))  # someone else's thread


def test_public_places_grant_the_server_and_private_places_only_themselves(state: ConnectionState) -> None:
    events = _events(state)
    public = events.from_message(_message(state, PUBLIC, "q"), _message(state, PUBLIC, "q").channel)
    assert public.granted == frozenset({GLOBAL, f"discord:{GUILD}"})
    assert public.key.thread == "1000" and public.place_name == "Guild"
    hidden = _message(state, HIDDEN, "q")
    assert f"discord:{GUILD}:{HIDDEN}" in events.from_message(hidden, hidden.channel).granted
    private_thread = _message(state, 812, "q")
    incoming = events.from_message(private_thread, private_thread.channel)
    assert f"discord:{GUILD}:812" in incoming.granted and incoming.key.thread == "812"


def test_uploads_land_in_the_innermost_private_place(state: ConnectionState) -> None:
    private_thread = _message(state, 812, "q").channel
    public_thread = _message(state, 811, "q").channel
    assert [place.id for place in private_places(private_thread)] == [812]
    assert private_places(public_thread) == []
    assert upload_place(GUILD, ASKER, private_thread, "workspace") == f"discord:{GUILD}:812"
    assert upload_place(GUILD, ASKER, public_thread, "workspace") == f"discord:{GUILD}"
    assert upload_place(GUILD, ASKER, public_thread, "channel") == f"discord:{GUILD}:{PUBLIC}"
    assert upload_place(None, ASKER, None, "workspace") == f"discord:dm:{ASKER}"


def test_admins_come_from_the_config(state: ConnectionState) -> None:
    message = _message(state, PUBLIC, "q")
    assert _events(state, frozenset({str(ASKER)})).from_message(message, message.channel).is_admin
    assert not _events(state).from_message(message, message.channel).is_admin
