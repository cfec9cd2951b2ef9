"""Promise: only the platform can talk to kbot. Forged, unsigned and malformed requests are refused
(401/403/400, never a 500) and change nothing."""

from __future__ import annotations

import asyncio
import json

from bot.rag.knowledge_base import source_filter
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, free_port, knowledge_bot, platform_settings, quiet_for, running_bot
from tests.support.platforms import slack_section, telegram_section

GROUP = -100777
ADMIN = 99



def test_telegram_webhook_without_a_configured_secret_still_refuses_forged_updates(make_settings, llm) -> None:
    port = free_port()
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
            "mode": "webhook", "webhook_url": f"http://127.0.0.1:{port}/hook", "webhook_host": "127.0.0.1",
            "webhook_port": port, "admins": [ADMIN]})
        assert telegram_section(settings).webhook_secret is None
        app = knowledge_bot(settings, {f"telegram:{GROUP}": "falcon.md"})
        kb = app.knowledge_base
        scope = f"telegram:{GROUP}"

        async def post(update: dict | bytes, secret: str | None = None) -> int:
            return await asyncio.to_thread(tg.post_to_webhook, update, secret)

        async def scenario() -> None:
            async with running_bot(app):
                secret = tg.state.webhook["secret_token"]  # type: ignore[index]
                assert len(secret) >= 32 and TOKEN not in secret  # strong, and not the token itself
                # A forged admin command, as anyone who learned the URL could send it.
                forged = tg.make_update(GROUP, "/kb delete falcon.md", user_id=ADMIN, chat_type="supergroup")
                assert await post(forged, "") == 403  # no secret header
                assert await post(forged, "guess" * 8) == 403  # a wrong one
                assert await post(forged, secret[:-1] + ("0" if secret[-1] != "0" else "1")) == 403
                assert await post(b"{not json", secret) == 400
                assert await post(b"[1, 2, 3]", secret) == 400
                assert await post(json.dumps({"message": "no update id"}).encode(), secret) == 400
                assert await post(b"\xff\xfe\x00garbage", secret) == 400
                await quiet_for(0.5)
                assert kb.chunk_metadata(source_filter("falcon.md", [scope]))  # nothing was deleted
                assert tg.bot_messages(GROUP) == [] and llm.chat_requests == []

                genuine = tg.make_update(4242, "How many vacation days do we get?")
                assert await post(genuine) == 200
                answer = await eventually(lambda: [m for m in tg.bot_messages(4242) if m.reply_markup],
                                          what="the genuine update's answer")
                assert "25 vacation days" in answer[0].text

        asyncio.run(scenario())


def test_slack_http_mode_refuses_unsigned_and_malformed_bodies(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = platform_settings(make_settings, llm, slack={
            "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
            "base_url": slack.api_base, "mode": "http", "http_host": "127.0.0.1", "http_port": 0})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                adapter = running.adapters[0]
                url = f"http://127.0.0.1:{adapter.http_port}{slack_section(settings).http_path}"

                def post(body: object, **kwargs: object) -> int:
                    return slack.post_signed(url, body, **kwargs)[0]  # type: ignore[arg-type]

                envelope = slack.mention("C1", "How many vacation days?")
                assert await asyncio.to_thread(post, envelope, secret="forged") == 401
                assert await asyncio.to_thread(post, envelope, signature="v0=" + "0" * 64) == 401
                assert await asyncio.to_thread(post, envelope, timestamp="-5") == 401
                # Validly signed, but not an event: the sender's fault, so 400 (not 500).
                assert await asyncio.to_thread(slack.post_signed_raw, url, b"{this is not json") == 400
                assert await asyncio.to_thread(slack.post_signed_raw, url, b"[1, 2]") == 400
                assert await asyncio.to_thread(slack.post_signed_raw, url, b"\xff\xfe{}") == 400
                assert llm.chat_requests == [] and slack.thread_replies("C1", envelope["event"]["ts"]) == []
                assert await asyncio.to_thread(post, envelope) == 200  # and genuine events still work
                await eventually(lambda: llm.chat_requests, what="the genuine event's answer")

        asyncio.run(scenario())


def test_discord_a_replayed_interaction_is_answered_once(make_settings, llm) -> None:
    """Discord's gateway is an authenticated WebSocket kbot opens itself: nobody else can inject into
    it, but a resumed session replays events, and that must not answer twice."""
    from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
    from tests.fakes.discord_server import FakeDiscord

    guild, channel = "800000000000000001", "810000000000000001"
    with FakeDiscord() as discord:
        discord.add_guild(guild, {channel: False})
        settings = platform_settings(make_settings, llm, discord={
            "enabled": True, "token": DISCORD_TOKEN, "base_url": discord.api_base})
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                interaction = discord.slash(channel, "How many vacation days do we get?")
                await eventually(lambda: [m for m in discord.bot_messages(channel) if m.components], what="answer")
                responses = len(discord.state.interaction_responses)
                # The gateway delivers the same interaction again (a resumed session replays events).
                payload = {"id": interaction, "application_id": "900000000000000002", "type": 2,
                           "token": f"itoken{interaction}", "version": 1, "channel_id": channel,
                           "channel": discord.state.channels[channel], "guild_id": guild, "locale": "en-US",
                           "data": {"id": "1", "name": "ask", "type": 1,
                                    "options": [{"name": "question", "type": 3, "value": "again?"}]},
                           "member": {"user": {"id": "700000000000000001", "username": "u", "discriminator": "0",
                                               "global_name": None, "avatar": None}, "roles": [],
                                      "permissions": "0", "joined_at": "2026-01-01T00:00:00+00:00",
                                      "deaf": False, "mute": False, "flags": 0},
                           "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
                           "context": 0, "attachment_size_limit": 8388608}
                discord.dispatch("INTERACTION_CREATE", payload)
                await quiet_for(1.5)
                assert len(llm.chat_requests) == 1 and len(discord.state.interaction_responses) == responses
                later = discord.user_message(channel, "How many vacation days do we get?", mention_bot=True)
                await eventually(lambda: [m for m in discord.bot_messages(channel)
                                          if m.reference == later["id"] and m.components], what="still answering")

        asyncio.run(scenario())


def test_a_share_button_rewritten_to_another_chat_posts_nothing(make_settings, llm) -> None:
    """A Telegram client sends whatever callback data it likes: a private answer, made from one
    group's knowledge, is only ever shared back into that group."""
    other, asker = -100888, 5
    with FakeTelegram() as tg:
        settings = platform_settings(make_settings, llm, answer={"visibility": "private_first"}, telegram={
            "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base})
        app = knowledge_bot(settings, {f"telegram:{GROUP}": "falcon.md"})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app):
                tg.user_message(GROUP, "@kbot_test_bot what is the Falcon code word?", chat_type="supergroup",
                                user_id=asker)
                private = await eventually(lambda: [m for m in tg.bot_messages(asker) if m.reply_markup],
                                           what="the private answer")
                share = private[0].reply_markup["inline_keyboard"][-1][0]["callback_data"]
                reply_id = share.split(":")[1]
                tg.click(asker, private[0].message_id, f"sh:{reply_id}:{other}:1", user_id=asker)
                refusal = await eventually(lambda: [a for a in tg.state.callback_answers
                                                    if "another channel" in str(a.get("text"))], what="refusal")
                assert refusal
                await quiet_for(0.5)
                assert tg.bot_messages(other) == []  # ORCHID stays in its group
            assert tg.state.rejected == []

        asyncio.run(scenario())


def test_a_share_button_rewritten_to_another_server_posts_nothing(make_settings, llm) -> None:
    from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN
    from tests.fakes.discord_server import FakeDiscord
    from tests.support.platforms import ELSEWHERE, SECRET, discord_final, discord_world

    with FakeDiscord() as discord:
        discord_world(discord)
        settings = platform_settings(make_settings, llm, answer={"visibility": "private_first"},
                                     discord={"enabled": True, "token": DISCORD_TOKEN, "base_url": discord.api_base})
        app = knowledge_bot(settings, {f"discord:800000000000000001:{SECRET}": "falcon.md"})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app):
                discord.user_message(SECRET, "What is the Falcon code word?", mention_bot=True)
                dm = await eventually(lambda: next((c["id"] for c in discord.state.channels.values()
                                                    if c.get("type") == 1), None), what="the DM")
                private = await eventually(lambda: discord_final(discord, dm), what="the private answer")
                share = next(b["custom_id"] for row in private.components for b in row["components"]
                             if b["custom_id"].startswith("kbot:share:"))
                reply_id = share.removeprefix("kbot:share:").split(":")[0]
                discord.click(private, f"kbot:share:{reply_id}:{ELSEWHERE}:0", user_id="700000000000000001")
                await eventually(lambda: any("another channel" in str(r.get("data", {}).get("content"))
                                             for r in discord.state.interaction_responses), what="the refusal")
                await quiet_for(0.5)
                assert discord.bot_messages(ELSEWHERE) == []
            assert discord.state.rejected == []

        asyncio.run(scenario())
