"""Nothing sent to kbot goes unanswered: a photo, voice note, sticker, video or unreadable file gets a
short reply saying what kbot reads and how to add documents; words sent with it are still answered;
media not addressed to kbot stays ignored."""

from __future__ import annotations

import asyncio

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, running_bot
from tests.support.platforms import (
    GENERAL,
    discord_final,
    discord_settings,
    discord_world,
    slack_final,
    slack_settings,
    telegram_settings,
)

PRIVATE, GROUP = 4242, -100777


def test_telegram_media_get_a_reply_and_captions_an_answer(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        def reply_to(update: dict) -> list[str]:
            message = update["message"]
            return [m.text for m in tg.bot_messages(message["chat"]["id"]) if m.reply_to == message["message_id"]]

        def private_after(sent: int) -> list[str]:  # in a private chat a reply does not quote the message
            return [m.text for m in tg.bot_messages(PRIVATE)][sent:]

        async def scenario() -> None:
            async with running_bot(app):
                for kind, noun in (("photo", "a photo"), ("voice", "a voice note"), ("sticker", "a sticker"),
                                   ("video", "a video")):
                    before = len(tg.bot_messages(PRIVATE))
                    tg.user_media(PRIVATE, kind)
                    [note] = await eventually(lambda b=before: private_after(b), what=kind)
                    assert note.startswith(f"I can't take {noun} as a question: I answer questions written as text.")
                    assert "/kb upload" in note and "Ask me in words" in note

                tg.user_document(PRIVATE, "report.pdf", b"%PDF-1.4", chat_type="private")
                [hint] = await eventually(lambda: private_after(4), what="the upload hint")
                assert "To add report.pdf to the knowledge base, send it with the caption /kb upload" in hint
                tg.user_document(PRIVATE, "tool.exe", b"MZ", chat_type="private")
                [refused] = await eventually(lambda: private_after(5), what="the unreadable file")
                assert refused.startswith("I can't read tool.exe: I read PDF") and ".docx" in refused

                quiet = tg.user_media(GROUP, "photo", chat_type="supergroup")  # not addressed to kbot
                asked = tg.user_media(GROUP, "photo", caption=f"@{BOT_USERNAME} how many vacation days do we get?",
                                      chat_type="supergroup")
                replies = await eventually(lambda: len(reply_to(asked)) >= 2 and reply_to(asked), what="the answer")
                assert "I'll answer your words below" in replies[0] and "25 vacation days" in replies[1]
                assert reply_to(quiet) == []
            assert tg.state.rejected == []

        asyncio.run(scenario())


def test_discord_attachments_and_stickers_get_a_reply(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        app = knowledge_bot(discord_settings(make_settings, llm, discord), {})

        def replies_to(message: dict) -> list[str]:
            return [m.content for m in discord.bot_messages(message["channel_id"]) if m.reference == message["id"]]

        async def scenario() -> None:
            async with running_bot(app):
                voice = discord.user_message(GENERAL, "", mention_bot=True, voice=True)
                [note] = await eventually(lambda: replies_to(voice), what="the voice note's reply")
                assert "I can't take a voice note as a question" in note and "attach it to /kb upload" in note
                dm = discord.dm_channel("700000000000000001")
                sticker = discord.user_message(dm, "", sticker=True)
                [note] = await eventually(lambda: replies_to(sticker), what="the sticker's reply")
                assert "I can't take a sticker as a question" in note
                files = discord.user_message(GENERAL, "", mention_bot=True,
                                             attachments=(("notes.zip", "application/zip"),
                                                          ("guide.md", "text/markdown")))
                [note] = await eventually(lambda: replies_to(files), what="the files' reply")
                assert "I can't read notes.zip" in note and "To add guide.md to the knowledge base" in note

                quiet = discord.user_message(GENERAL, "look at this", attachments=(("cat.png", "image/png"),))
                asked = discord.user_message(GENERAL, "How many vacation days do we get?", mention_bot=True,
                                             attachments=(("screen.png", "image/png"),))
                answer = await eventually(lambda: discord_final(discord, GENERAL, asked["id"]), what="the answer")
                assert "25 vacation days" in answer.content
                notes = replies_to(asked)
                assert "I can't take a photo as a question" in notes[0] and "I'll answer your words below" in notes[0]
                assert replies_to(quiet) == []  # not addressed to kbot
            assert discord.state.rejected == []

        asyncio.run(scenario())


def test_slack_files_on_a_mention_get_a_reply(make_settings, llm) -> None:
    with FakeSlack() as slack:
        app = knowledge_bot(slack_settings(make_settings, llm, slack), {})

        def replies(ts: str) -> list[str]:
            return [m.visible() for m in slack.thread_replies("C1", ts)]

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                only_files = slack.mention("C1", "")
                only_files["event"]["files"] = [{"id": "F1", "name": "scan.png", "mimetype": "image/png"},
                                                {"id": "F2", "name": "data.xlsx", "mimetype": "application/zip"}]
                slack.deliver(only_files)
                [note] = await eventually(lambda: replies(only_files["event"]["ts"]), what="the files' reply")
                assert "I can't take a photo as a question" in note and "I can't read data.xlsx" in note
                assert "share it with me in a direct message" in note

                asked = slack.mention("C1", "How many vacation days do we get?")
                asked["event"]["files"] = [{"id": "F3", "name": "clip.mp4", "mimetype": "video/mp4"}]
                slack.deliver(asked)
                final = await eventually(lambda: slack_final(slack, "C1", asked["event"]["ts"]), what="the answer")
                assert "25 vacation days" in final.visible()
                assert "I can't take a video as a question" in replies(asked["event"]["ts"])[0]
            assert slack.state.rejected == []

        asyncio.run(scenario())
