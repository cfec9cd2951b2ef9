""""Why these sources?" on every platform's server: the button under a cited answer shows the asker
how each source was found, only where the answer was given."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.core.requests import Place
from bot.state.explanations import UNKNOWN, WHY_LABEL, Explanations
from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_server import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram_server import FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, quiet_for, running_bot

QUESTION = "How many vacation days do we get?"


def _explains_the_handbook(text: str) -> None:
    assert text.startswith("Why these sources? kbot searched for: How many vacation days do we get?")
    line = next(line for line in text.splitlines() if line.startswith("[1] "))
    assert "Time off" in line and "keyword #1 (BM25" in line
    assert "matched: vacation, days" in line  # the query's words found in the passage ("how", "we" are not)


def test_slack_button_explains_to_the_clicker_alone(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = platform_settings(make_settings, llm, slack={
            "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
            "base_url": slack.api_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                envelope = slack.mention("C1", QUESTION)
                slack.deliver(envelope)
                ts = envelope["event"]["ts"]

                def final():  # noqa: ANN202
                    return next((m for m in slack.thread_replies("C1", ts)
                                 if any(b.get("type") == "actions" for b in m.blocks)), None)

                answer = await eventually(final, what="the final answer")
                buttons = next(b for b in answer.blocks if b["type"] == "actions")["elements"]
                why = buttons[2]
                assert why["text"]["text"] == WHY_LABEL and why["action_id"] == "kbot_why"
                slack.deliver(slack.click(answer, "kbot_why", why["value"], user="U7"), kind="interactive")
                shown = await eventually(lambda: slack.state.ephemeral, what="the explanation")
                assert shown[0]["user"] == "U7" and shown[0]["channel"] == "C1"
                _explains_the_handbook(shown[0]["text"])

                # The same reply id clicked from another channel explains nothing.
                elsewhere = replace(answer, channel="C2")
                slack.deliver(slack.click(elsewhere, "kbot_why", why["value"], user="U7"), kind="interactive")
                await eventually(lambda: len(slack.state.ephemeral) == 2, what="the second reply")
                assert slack.state.ephemeral[1]["text"] == UNKNOWN
            assert slack.state.rejected == []

        asyncio.run(scenario())


def test_discord_button_explains_ephemerally(make_settings, llm) -> None:
    guild, general, other = "800000000000000001", "810000000000000001", "810000000000000003"
    with FakeDiscord() as discord:
        discord.add_guild(guild, {general: False, other: False})
        settings = platform_settings(make_settings, llm, discord={"enabled": True, "token": DISCORD_TOKEN,
                                                                  "base_url": discord.api_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                question = discord.user_message(general, QUESTION, mention_bot=True)
                answer = await eventually(lambda: next((m for m in discord.bot_messages(general)
                                                        if m.components and m.reference == question["id"]), None),
                                          what="the final answer")
                buttons = answer.components[0]["components"]
                assert [b["label"] for b in buttons] == ["👍", "👎", WHY_LABEL]
                discord.click(answer, buttons[2]["custom_id"], user_id="700000000000000009")
                response = await eventually(lambda: discord.state.interaction_responses, what="the explanation")
                assert response[0]["type"] == 4 and response[0]["data"]["flags"] & 64  # only the clicker sees it
                _explains_the_handbook(response[0]["data"]["content"])

                moved = replace(answer, channel_id=other)
                discord.click(moved, buttons[2]["custom_id"], user_id="700000000000000009")
                await eventually(lambda: len(discord.state.interaction_responses) == 2, what="the second reply")
                assert discord.state.interaction_responses[1]["data"]["content"] == UNKNOWN
            assert discord.state.rejected == []

        asyncio.run(scenario())


def test_the_answer_is_on_record_when_its_buttons_appear(make_settings, llm) -> None:
    """A click the instant the final message lands finds its answer (it was stored before it was sent)."""
    guild, general = "800000000000000001", "810000000000000001"
    with FakeDiscord() as discord:
        discord.add_guild(guild, {general: False})
        settings = platform_settings(make_settings, llm, discord={"enabled": True, "token": DISCORD_TOKEN,
                                                                  "base_url": discord.api_base})
        app = knowledge_bot(settings, {})
        explanations = Explanations(app.engine)
        found: list[str] = []

        def click_at_once(message) -> None:  # noqa: ANN001
            why = next(b["custom_id"] for row in message.components for b in row["components"]
                       if b["custom_id"].startswith("kbot:why:"))
            found.append(explanations.explain(why.removeprefix("kbot:why:"), Place("discord", guild, general)))

        discord.on_buttons = click_at_once

        async def scenario() -> None:
            async with running_bot(app):
                discord.user_message(general, QUESTION, mention_bot=True)
                await eventually(lambda: found, what="the final answer")

        asyncio.run(scenario())
        _explains_the_handbook(found[0])


def test_telegram_button_explains_in_a_private_chat_and_once_in_a_group(make_settings, llm) -> None:
    private, group = 4242, -100777
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TELEGRAM_TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {})

        def final(chat: int):  # noqa: ANN202
            return next((m for m in tg.bot_messages(chat) if m.reply_markup), None)

        async def scenario() -> None:
            async with running_bot(app):
                tg.user_message(private, QUESTION)
                answer = await eventually(lambda: final(private), what="the private answer")
                rows = answer.reply_markup["inline_keyboard"]
                assert [b["text"] for b in rows[1]] == [WHY_LABEL]
                tg.click(private, answer.message_id, rows[1][0]["callback_data"], user_id=7)
                shown = await eventually(lambda: [m for m in tg.bot_messages(private)
                                                  if m.reply_to == answer.message_id], what="the explanation")
                _explains_the_handbook(shown[0].text)
                assert shown[0].link_preview_disabled and shown[0].parse_mode is None

                # In a group everyone sees a message: a hundred clicks post it once.
                tg.user_message(group, f"/ask {QUESTION}", chat_type="supergroup")
                group_answer = await eventually(lambda: final(group), what="the group answer")
                data = group_answer.reply_markup["inline_keyboard"][1][0]["callback_data"]
                for user in (7, 8, 9):
                    tg.click(group, group_answer.message_id, data, user_id=user, chat_type="supergroup")
                await eventually(lambda: len(tg.state.callback_answers) == 4, what="every click acknowledged")
                posted = await eventually(lambda: [m for m in tg.bot_messages(group)
                                                   if m.reply_to == group_answer.message_id], what="the explanation")
                await quiet_for(1.5)  # time for any further post (one per second per chat) to arrive
                assert len([m for m in tg.bot_messages(group) if m.reply_to == group_answer.message_id]) == 1
                _explains_the_handbook(posted[0].text)
                assert sum("already posted" in (a.get("text") or "") for a in tg.state.callback_answers) == 2

                # The private answer's button replayed in the group explains nothing there.
                tg.click(group, group_answer.message_id, rows[1][0]["callback_data"], user_id=7, chat_type="supergroup")
                await eventually(lambda: len([m for m in tg.bot_messages(group)
                                              if m.reply_to == group_answer.message_id]) == 2, what="the reply")
                assert [m for m in tg.bot_messages(group) if m.reply_to == group_answer.message_id][1].text == UNKNOWN
            assert tg.state.rejected == []

        asyncio.run(scenario())
