"""Coverage gaps end to end on each platform: questions that found nothing and answers voted 👎 are
recorded (redacted), and `/kb gaps` / `/kb stats` show this channel's to anyone and the whole
workspace's to admins."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.insights.gaps import EVERYWHERE, GapLog
from bot.state.db import TurnRow
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, running_bot
from tests.support.platforms import (
    GENERAL,
    SECRET,
    discord_final,
    discord_settings,
    discord_world,
    slack_final,
    slack_settings,
    telegram_settings,
)

UNKNOWN = "Which espresso beans does marketing prefer? Ask jane.doe@example.com"
ELSEWHERE_UNKNOWN = "Where is the parking garage entrance?"
ANSWERED = "How many vacation days do we get?"
NOTHING = "couldn't find anything"


def _check_member_view(text: str) -> None:
    assert "Missing topics in this channel" in text
    assert "espresso beans" in text and "[email]" in text and "jane.doe" not in text
    assert "vacation days" in text and "👎 100%" in text  # the answer voted down is a gap too
    assert "parking" not in text  # another channel's question is not shown here


def _remembered(engine, reply_id: str) -> bool:  # type: ignore[no-untyped-def]
    """The answer's turn is stored just after its final message: a vote before that finds no answer."""
    with Session(engine) as session:
        return session.scalar(select(TurnRow.id).where(TurnRow.reply_id == reply_id)) is not None


def _check_stored(app_engine) -> None:  # type: ignore[no-untyped-def]
    stored = GapLog(app_engine).gaps(EVERYWHERE, 30)
    assert len(stored) == 3 and not any("@" in gap.question for gap in stored)


def test_slack_gaps_and_stats_by_channel_and_for_admins(make_settings, llm) -> None:
    with FakeSlack() as slack:
        slack.state.workspace_admins.add("UADMIN")
        app = knowledge_bot(slack_settings(make_settings, llm, slack), {})

        def ephemeral_after(count: int) -> str:
            return slack.state.ephemeral[count]["text"] if len(slack.state.ephemeral) > count else ""

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                for channel, text in (("C1", UNKNOWN), ("C2", ELSEWHERE_UNKNOWN)):
                    slack.deliver(slack.mention(channel, text))
                    await eventually(lambda c=channel: [m for m in slack.state.messages.values()
                                                        if m.channel == c and NOTHING in m.visible()], what=channel)
                asked = slack.mention("C1", ANSWERED)
                slack.deliver(asked)
                final = await eventually(lambda: slack_final(slack, "C1", asked["event"]["ts"]), what="the answer")
                down = [b for b in final.blocks if b["type"] == "actions"][0]["elements"][1]
                engine = running.service.feedback.engine
                await eventually(lambda: _remembered(engine, down["value"]), what="the remembered answer")
                slack.deliver(slack.click(final, down["action_id"], down["value"], user="U9"), kind="interactive")
                await eventually(lambda: ephemeral_after(0), what="the vote's acknowledgement")

                slack.deliver(slack.slash("C1", "gaps", command="/kb"), kind="slash_commands")
                _check_member_view(await eventually(lambda: ephemeral_after(1), what="/kb gaps"))
                slack.deliver(slack.slash("C1", "gaps 30", user="UADMIN", command="/kb"), kind="slash_commands")
                admin = await eventually(lambda: ephemeral_after(2), what="the admin's /kb gaps")
                assert "this workspace" in admin and "parking" in admin and "espresso" in admin
                slack.deliver(slack.slash("C1", "stats", command="/kb"), kind="slash_commands")
                stats = await eventually(lambda: ephemeral_after(3), what="/kb stats")
                assert "2 question(s), 1 answered from sources (50%), 👍 0 / 👎 1" in stats
                slack.deliver(slack.slash("C1", "gaps lots", command="/kb"), kind="slash_commands")
                assert "Give a number of days" in await eventually(lambda: ephemeral_after(4), what="the refusal")
                _check_stored(running.service.feedback.engine)
            assert slack.state.rejected == []

        asyncio.run(scenario())


def test_discord_gaps_and_stats_by_channel_and_for_admins(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        app = knowledge_bot(discord_settings(make_settings, llm, discord), {})

        def replies(channel: str, needle: str) -> list[str]:
            return [m.content for m in discord.channel_messages(channel) if needle in m.content]

        async def scenario() -> None:
            async with running_bot(app) as running:
                for channel, text in ((GENERAL, UNKNOWN), (SECRET, ELSEWHERE_UNKNOWN)):
                    discord.user_message(channel, text, mention_bot=True)
                    await eventually(lambda c=channel: replies(c, NOTHING), what=channel)
                asked = discord.user_message(GENERAL, ANSWERED, mention_bot=True)
                final = await eventually(lambda: discord_final(discord, GENERAL, asked["id"]), what="the answer")
                down = final.components[0]["components"][1]["custom_id"]
                engine = running.service.feedback.engine
                await eventually(lambda: _remembered(engine, down.rsplit(":", 1)[1]), what="the remembered answer")
                discord.click(final, down, user_id="700000000000000009")
                await eventually(lambda: discord.state.interaction_responses, what="the vote's acknowledgement")

                discord.kb(GENERAL, "gaps")
                _check_member_view((await eventually(lambda: replies(GENERAL, "Missing topics"), what="/kb gaps"))[0])
                discord.kb(GENERAL, "gaps", days=30, manage_server=True)
                admin = await eventually(lambda: replies(GENERAL, "this server"), what="the admin's /kb gaps")
                # The private channel's question stays in it: counted here, shown only there.
                assert "espresso" in admin[0] and "parking" not in admin[0]
                assert "1 question(s) from private channels are counted but not shown here" in admin[0]
                discord.kb(SECRET, "gaps", days=30, manage_server=True)
                inside = await eventually(lambda: replies(SECRET, "this server"), what="/kb gaps in there")
                assert "parking" in inside[0] and "espresso" in inside[0]
                discord.kb(GENERAL, "stats", days=7)
                stats = await eventually(lambda: replies(GENERAL, "Last 7 days"), what="/kb stats")
                assert "2 question(s), 1 answered from sources (50%), 👍 0 / 👎 1" in stats[0]
                _check_stored(running.service.feedback.engine)
            assert discord.state.rejected == []

        asyncio.run(scenario())


GROUP, OTHER_GROUP, ADMIN, MEMBER = -100777, -100888, 99, 5


def test_telegram_gaps_and_stats_by_chat(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        tg.state.chat_admins.add(ADMIN)
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        def reply_to(chat: int, update: dict) -> list[str]:
            return [m.text for m in tg.bot_messages(chat) if m.reply_to == update["message"]["message_id"]]

        async def scenario() -> None:
            async with running_bot(app) as running:
                for chat, text in ((GROUP, UNKNOWN), (OTHER_GROUP, ELSEWHERE_UNKNOWN)):
                    sent = tg.user_message(chat, f"@{BOT_USERNAME} {text}", chat_type="supergroup", user_id=MEMBER)
                    await eventually(lambda c=chat, u=sent: [t for t in reply_to(c, u) if NOTHING in t], what=str(chat))
                asked = tg.user_message(GROUP, f"@{BOT_USERNAME} {ANSWERED}", chat_type="supergroup", user_id=MEMBER)
                await eventually(lambda: [m for m in tg.bot_messages(GROUP) if m.reply_markup
                                          and m.reply_to == asked["message"]["message_id"]], what="the answer")
                final = next(m for m in tg.bot_messages(GROUP) if m.reply_to == asked["message"]["message_id"])
                down = final.reply_markup["inline_keyboard"][0][1]["callback_data"]
                engine = running.service.feedback.engine
                await eventually(lambda: _remembered(engine, down.split(":")[2]), what="the remembered answer")
                tg.click(GROUP, final.message_id, down, user_id=7, chat_type="supergroup")
                await eventually(lambda: tg.state.callback_answers, what="the vote's acknowledgement")

                command = tg.user_message(GROUP, "/kb gaps", chat_type="supergroup", user_id=MEMBER)
                shown = (await eventually(lambda: reply_to(GROUP, command), what="/kb gaps"))[0]
                assert "espresso beans" in shown and "[email]" in shown and "jane.doe" not in shown
                assert "vacation days" in shown and "👎 100%" in shown and "parking" not in shown
                command = tg.user_message(GROUP, "/kb stats 7", chat_type="supergroup", user_id=ADMIN)
                stats = (await eventually(lambda: reply_to(GROUP, command), what="/kb stats"))[0]
                assert "2 question(s), 1 answered from sources (50%), 👍 0 / 👎 1" in stats
                _check_stored(running.service.feedback.engine)
            assert tg.state.rejected == []

        asyncio.run(scenario())
