"""private_first end to end: an answer in a channel goes to the asker alone, with a "Share with the
channel" button that posts it there as a normal answer (only the asker may, once); admins choose
per channel with /kb visibility."""

from __future__ import annotations

import asyncio

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack, SlackMessage
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, quiet_for, running_bot
from tests.support.platforms import (
    GENERAL,
    discord_final,
    discord_settings,
    discord_world,
    slack_final,
    slack_settings,
    telegram_settings,
)


def _share_button(ephemeral: dict) -> dict | None:
    for block in ephemeral.get("blocks") or []:
        if block.get("type") == "actions" and block.get("block_id") == "kbot_share":
            return block["elements"][0]
    return None


def test_slack_private_first_and_share(make_settings, llm) -> None:
    with FakeSlack() as slack:
        slack.state.workspace_admins.add("UADMIN")
        app = knowledge_bot(slack_settings(make_settings, llm, slack), {})

        def ephemeral_with(needle: str) -> list[dict]:
            return [e for e in slack.state.ephemeral if needle in (e.get("text") or "")]

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                slack.deliver(slack.slash("C1", "visibility private_first", command="/kb"), kind="slash_commands")
                assert "Only admins" in (await eventually(lambda: ephemeral_with("Only admins"), what="refusal"))[0][
                    "text"]
                slack.deliver(slack.slash("C1", "visibility private_first", user="UADMIN", command="/kb"),
                              kind="slash_commands")
                await eventually(lambda: [m for m in slack.state.messages.values()  # announced to the channel
                                          if "Visibility here is private_first" in m.text], what="the choice")

                asked = slack.mention("C1", "How many vacation days do we get?", user="U1")
                root = asked["event"]["ts"]
                slack.deliver(asked)
                [private] = await eventually(lambda: ephemeral_with("25 vacation days"), what="the private answer")
                assert private["user"] == "U1" and private["thread_ts"] == root
                assert slack.thread_replies("C1", root) == []  # nothing in the channel yet
                button = _share_button(private)
                assert button is not None and button["text"]["text"] == "Share with the channel"

                shown = SlackMessage("C1", "1.5", root)
                slack.deliver(slack.click(shown, button["action_id"], button["value"], user="U2"), kind="interactive")
                await eventually(lambda: ephemeral_with("Only the person who asked"), what="a stranger's refusal")
                assert slack.thread_replies("C1", root) == []
                for _ in range(2):  # a double click shares once
                    slack.deliver(slack.click(shown, button["action_id"], button["value"], user="U1"),
                                  kind="interactive")
                final = await eventually(lambda: slack_final(slack, "C1", root), what="the shared answer")
                assert "25 vacation days" in final.visible() and "Time off" in final.visible()
                await quiet_for(1)
                assert len(slack.thread_replies("C1", root)) == 1

                dm = slack.message("D1", "How many vacation days do we get?", channel_type="im")
                slack.deliver(dm)  # a DM is private already: answered there as usual
                await eventually(lambda: slack_final(slack, "D1", dm["event"]["ts"]), what="the DM answer")
            assert slack.state.rejected == []

        asyncio.run(scenario())


def _share_id(message) -> str | None:  # type: ignore[no-untyped-def]
    for row in message.components or []:
        for button in row.get("components", []):
            if button.get("custom_id", "").startswith("kbot:share:"):
                return button["custom_id"]
    return None


def test_discord_private_first_dm_ephemeral_ask_and_share(make_settings, llm) -> None:
    asker, stranger, closed = "700000000000000001", "700000000000000009", "700000000000000007"
    with FakeDiscord() as discord:
        discord_world(discord)
        discord.state.dms_closed.add(closed)
        app = knowledge_bot(discord_settings(make_settings, llm, discord), {})

        def contents(channel: str) -> list[str]:
            return [m.content for m in discord.channel_messages(channel)]

        async def scenario() -> None:
            async with running_bot(app):
                discord.kb(GENERAL, "visibility", choice="private_first", manage_server=True)
                await eventually(lambda: any("Visibility here is private_first" in c for c in contents(GENERAL)),
                                 what="the choice")
                question = discord.user_message(GENERAL, "How many vacation days do we get?", mention_bot=True,
                                                user_id=asker)
                dm = await eventually(lambda: next((c["id"] for c in discord.state.channels.values()
                                                    if c.get("type") == 1 and c["recipients"][0]["id"] == asker),
                                                   None), what="the DM")
                private = await eventually(lambda: discord_final(discord, dm), what="the private answer")
                assert "25 vacation days" in private.content
                assert not [m for m in discord.bot_messages(GENERAL) if "vacation" in m.content]
                share = _share_id(private)
                assert share is not None and share.endswith(f":{GENERAL}:{question['id']}")

                discord.click(private, share, user_id=stranger)
                await eventually(lambda: any("Only the person who asked" in str(r.get("data", {}).get("content"))
                                             for r in discord.state.interaction_responses), what="the refusal")
                discord.click(private, share, user_id=asker)
                shared = await eventually(lambda: discord_final(discord, GENERAL, question["id"]), what="the share")
                assert "25 vacation days" in shared.content and _share_id(shared) is None

                discord.slash(GENERAL, "How many vacation days do we get?")
                first = await eventually(lambda: [r for r in discord.state.interaction_responses
                                                  if r.get("type") == 4 and "only you" in r["data"]["content"]],
                                         what="the ephemeral /ask")
                assert first[0]["data"]["flags"] & 64

                refused = discord.user_message(GENERAL, "How many vacation days do we get?", mention_bot=True,
                                               user_id=closed)
                await eventually(lambda: any("couldn't send you a direct message" in c for c in contents(GENERAL)),
                                 what="the DM refusal note")
                public = await eventually(lambda: discord_final(discord, GENERAL, refused["id"]),
                                          what="the public answer after all")
                assert "25 vacation days" in public.content and _share_id(public) is None
            assert discord.state.rejected == ["Cannot send messages to this user"]

        asyncio.run(scenario())


def test_telegram_private_first_private_chat_or_a_note(make_settings, llm) -> None:
    group, asker, stranger, newcomer, admin = -100777, 5, 6, 8, 99
    with FakeTelegram() as tg:
        tg.state.chat_admins.add(admin)
        tg.state.not_started.add(newcomer)
        settings = telegram_settings(make_settings, llm, tg, answer={"visibility": "private_first"})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                command = tg.user_message(group, "/kb visibility", chat_type="supergroup", user_id=asker)
                shown = await eventually(lambda: [m.text for m in tg.bot_messages(group)
                                                  if m.reply_to == command["message"]["message_id"]], what="status")
                assert "private_first (the configured default)" in shown[0]

                question = tg.user_message(group, f"@{BOT_USERNAME} how many vacation days do we get?",
                                           chat_type="supergroup", user_id=asker)
                private = await eventually(lambda: [m for m in tg.bot_messages(asker) if m.reply_markup],
                                           what="the private answer")
                assert "25 vacation days" in private[0].text
                assert not [m for m in tg.bot_messages(group) if "vacation" in m.text]
                rows = private[0].reply_markup["inline_keyboard"]
                share = rows[-1][0]
                assert share["text"] == "Share with the chat"
                assert share["callback_data"].endswith(f":{group}:{question['message']['message_id']}")

                tg.click(asker, private[0].message_id, share["callback_data"], user_id=stranger)
                await eventually(lambda: any("Only the person who asked" in str(a.get("text"))
                                             for a in tg.state.callback_answers), what="the refusal")
                for _ in range(2):
                    tg.click(asker, private[0].message_id, share["callback_data"], user_id=asker)
                posted = await eventually(lambda: [m for m in tg.bot_messages(group) if m.reply_markup
                                                   and m.reply_to == question["message"]["message_id"]],
                                          what="the shared answer")
                assert "25 vacation days" in posted[0].text
                await quiet_for(1)
                assert len([m for m in tg.bot_messages(group) if "vacation" in m.text]) == 1

                tg.user_message(group, f"@{BOT_USERNAME} how many vacation days do we get?",
                                chat_type="supergroup", user_id=newcomer)
                noted = await eventually(lambda: [m for m in tg.bot_messages(group) if m.reply_markup
                                                  and "once you have started a chat with me" in m.text],
                                         what="the public answer with a note")
                assert "25 vacation days" in noted[0].text
            assert tg.state.rejected == []

        asyncio.run(scenario())
