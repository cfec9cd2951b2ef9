"""Discord sharding (`discord.shards`): each server's events reach the process running its shard, so
shards split over two processes answer every server once between them, and DMs (shard 0) too; all
shards in one process answer everything. The fake gateway routes by Discord's rule,
shard = (guild_id >> 22) % count."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import ConfigError
from tests.fakes.discord_server import FakeDiscord, shard_of
from tests.support.bots import eventually, knowledge_bot, metric, quiet_for, running_bot
from tests.support.platforms import discord_final, discord_settings

SHARD0_GUILD, SHARD0_CHANNEL = "800000000004194304", "810000000000000011"
SHARD1_GUILD, SHARD1_CHANNEL = "800000000000000001", "810000000000000012"
ANSWERED = 'kbot_answers_total{grounded="true",platform="discord"}'


def _world(discord: FakeDiscord) -> None:
    assert shard_of(SHARD0_GUILD, 2) == 0 and shard_of(SHARD1_GUILD, 2) == 1
    discord.add_guild(SHARD0_GUILD, {SHARD0_CHANNEL: False})
    discord.add_guild(SHARD1_GUILD, {SHARD1_CHANNEL: False})


def test_two_processes_each_running_one_shard_answer_every_server_once(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        _world(discord)
        first = knowledge_bot(discord_settings(make_settings, llm, discord, shards={"count": 2, "ids": [0]}), {})
        second = knowledge_bot(discord_settings(make_settings, llm, discord, shards={"count": 2, "ids": [1]}), {})

        async def scenario() -> None:
            async with running_bot(first) as zero, running_bot(second) as one:
                assert sorted(discord.state.shards) == [(0, 2), (1, 2)]
                asked = {channel: discord.user_message(channel, "How many vacation days do we get?",
                                                       mention_bot=True)["id"]
                         for channel in (SHARD0_CHANNEL, SHARD1_CHANNEL)}
                dm = discord.dm_channel("700000000000000001")
                asked[dm] = discord.user_message(dm, "How many vacation days do we get?")["id"]
                for channel, question in asked.items():
                    final = await eventually(lambda c=channel, q=question: discord_final(discord, c, q),
                                             what=f"the answer in {channel}")
                    assert "25 vacation days" in final.content
                await quiet_for(1)
                assert all(len(discord.bot_messages(channel)) == 1 for channel in asked)
                assert metric(zero, ANSWERED) == 2 and metric(one, ANSWERED) == 1  # shard 0 also has the DM
                assert [c["name"] for c in discord.state.commands] == ["ask", "kb"]  # synced by shard 0's process

        asyncio.run(scenario())


def test_all_shards_in_one_process_answer_every_server(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        _world(discord)
        discord.state.recommended_shards = 2
        app = knowledge_bot(discord_settings(make_settings, llm, discord, shards={"count": "auto"}), {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                assert sorted(discord.state.shards) == [(0, 2), (1, 2)]  # Discord's recommendation, both here
                for channel in (SHARD0_CHANNEL, SHARD1_CHANNEL):
                    question = discord.user_message(channel, "How many vacation days do we get?", mention_bot=True)
                    await eventually(lambda c=channel, q=question["id"]: discord_final(discord, c, q),
                                     timeout=30, what=f"the answer in {channel}")
                # An answer is counted once its final edit is sent, so the count may trail the message.
                await eventually(lambda: metric(running, ANSWERED) >= 2, what="both answers counted")
                await quiet_for(0.5)
                assert metric(running, ANSWERED) == 2

        asyncio.run(scenario())


@pytest.mark.parametrize("shards", [{"count": "auto", "ids": [0]}, {"count": 2, "ids": [2]}, {"count": 0},
                                    {"count": 2, "ids": [1, 1]}, {"count": 2, "shard": 1}])
def test_a_wrong_shard_setting_is_a_config_error(make_settings, llm, shards) -> None:
    with FakeDiscord() as discord, pytest.raises(ConfigError, match="discord.shards"):
        discord_settings(make_settings, llm, discord, shards=shards)
