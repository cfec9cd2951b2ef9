"""Promise: processes sharing a database behave as one bot. Each answers what it claims, and every
choice and limit made through one (scope choices, approvals, question rates, admin status) holds in
the other at once. Each bot here is built from scratch (its own engine, store handles and caches),
as a second `kbot run` would be; Slack delivers every event to both Socket Mode connections.
"""

from __future__ import annotations

import asyncio

from bot.wiring import build_access
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support.bots import eventually, knowledge_bot, metric, platform_settings, quiet_for, running_bot
from tests.support.platforms import slack_final, slack_section, telegram_final

ADMIN = "UADMIN"


def _settings(make_settings, llm, slack: FakeSlack, limits: dict | None = None, **extra):
    kwargs = {"limits": limits} if limits is not None else {}
    return platform_settings(make_settings, llm, slack={
        "enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
        "base_url": slack.api_base, "admins": [ADMIN], **extra}, **kwargs)


async def _ask(slack: FakeSlack, channel: str, text: str, user: str = "U1", team: str | None = None) -> str:
    envelope = slack.mention(channel, text, user=user, team=team)
    slack.deliver(envelope)
    return envelope["event"]["ts"]


def test_a_scope_choice_made_through_one_process_holds_in_the_other_at_once(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = _settings(make_settings, llm, slack)
        first, second = knowledge_bot(settings, {}), knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(first) as a, running_bot(second) as b:
                await eventually(lambda: slack.connections == 2, what="both connections")
                answered = 'kbot_answers_total{grounded="true",platform="slack"}'
                for i in range(30):  # until each process has answered in C1 (and could have remembered C1)
                    ts = await _ask(slack, "C1", f"How many vacation days do we get? [{i}]")
                    assert "25 vacation days" in (await eventually(lambda t=ts: slack_final(slack, "C1", t))).visible()
                    await eventually(lambda n=i: metric(a, answered) + metric(b, answered) == n + 1,
                                     what="the answer counted")
                    if metric(a, answered) and metric(b, answered):
                        break
                assert metric(a, answered) and metric(b, answered)
                before = len(llm.chat_requests)
                slack.deliver(slack.slash("C1", "scope global off", user=ADMIN, command="/kb"), kind="slash_commands")
                await eventually(lambda: [m for m in slack.state.messages.values() if "Answers here" in m.text]
                                 or [e for e in slack.state.ephemeral if "Answers here" in e["text"]],
                                 what="the scope change")
                asked = [await _ask(slack, "C1", f"How many vacation days do we get? ({i})") for i in range(10)]
                finals = await eventually(lambda: all(slack_final(slack, "C1", t) for t in asked) and
                                          [slack_final(slack, "C1", t) for t in asked], timeout=40, what="ten answers")
                assert all("couldn't find" in f.visible() and "25 vacation" not in f.visible() for f in finals)
                assert len(llm.chat_requests) == before  # nothing relevant: no model call for any of the ten

        asyncio.run(scenario())


def test_question_rates_are_counted_across_processes(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = _settings(make_settings, llm, slack, limits={"questions_per_person_per_minute": 3,
                                                                "questions_per_person_per_hour": 0,
                                                                "questions_per_channel_per_minute": 0})
        first, second = knowledge_bot(settings, {}), knowledge_bot(settings, {})
        llm.token_delay_s = 0.01

        async def scenario() -> None:
            async with running_bot(first) as a, running_bot(second) as b:
                await eventually(lambda: slack.connections == 2, what="both connections")
                for i in range(8):
                    await _ask(slack, f"C{i}", "How many vacation days do we get?")
                refused = 'kbot_refused_total{platform="slack",reason="rate_person"}'

                def count() -> float:
                    return sum(metric(r, refused) for r in (a, b))

                await eventually(lambda: count() == 5, what="five refusals")
                await eventually(lambda: len(llm.chat_requests) == 3, what="three answers")
                await quiet_for(0.5)
                assert len(llm.chat_requests) == 3

        asyncio.run(scenario())


def test_an_approval_holds_in_every_process_and_so_does_a_revocation(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = _settings(make_settings, llm, slack, access="pairing")
        first, second = knowledge_bot(settings, {}), knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(first), running_bot(second):
                await eventually(lambda: slack.connections == 2, what="both connections")
                ts = await _ask(slack, "C9", "How many vacation days do we get?", team="T2")  # another workspace
                code_message = await eventually(lambda: [m for m in slack.thread_replies("C9", ts)
                                                         if "kbot approve" in m.text], what="the pairing code")
                assert llm.chat_requests == []
                code = code_message[0].text.split("kbot approve ")[1].split("`")[0]
                access = build_access(settings, first.memory.engine)
                assert access.approve(code, "cli:test") is not None  # `kbot approve CODE` on the server
                ts = await _ask(slack, "C9", "How many vacation days do we get?", team="T2")
                assert "25 vacation days" in (await eventually(lambda: slack_final(slack, "C9", ts))).visible()
                assert access.revoke("slack", "T2")
                ts = await _ask(slack, "C9", "And now?", team="T2")
                await quiet_for(1.5)
                assert slack_final(slack, "C9", ts) is None and len(llm.chat_requests) == 1

        asyncio.run(scenario())


def test_an_admin_who_is_demoted_loses_admin_commands_at_once(make_settings, llm) -> None:
    with FakeSlack() as slack:
        slack.state.workspace_admins.add("UBOSS")
        settings = _settings(make_settings, llm, slack)
        app = knowledge_bot(settings, {})

        async def command(text: str) -> str:
            before = len(slack.state.ephemeral)
            slack.deliver(slack.slash("C1", text, user="UBOSS", command="/kb"), kind="slash_commands")
            replies = await eventually(lambda: slack.state.ephemeral[before:] or [
                {"text": m.text} for m in slack.state.messages.values() if m.text.startswith("Answers here")
                and m.ts not in seen], what=text)
            seen.update(m.ts for m in slack.state.messages.values())
            return replies[0]["text"]

        seen: set[str] = set()

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the connection")
                assert "Only admins" not in await command("scope global off")
                slack.state.workspace_admins.discard("UBOSS")  # demoted in Slack
                assert "Only admins" in await command("scope global on")

        asyncio.run(scenario())


def test_http_mode_behind_a_load_balancer_answers_each_event_once(make_settings, llm) -> None:
    """Slack's Events API posts each event to one URL; a load balancer spreads them over the chat
    processes, and Slack's retry of a slow one may land on the other."""
    with FakeSlack() as slack:
        settings = _settings(make_settings, llm, slack, mode="http", http_host="127.0.0.1", http_port=0)
        first, second = knowledge_bot(settings, {}), knowledge_bot(settings, {})
        llm.token_delay_s = 0.01

        async def scenario() -> None:
            async with running_bot(first) as a, running_bot(second) as b:
                urls = [f"http://127.0.0.1:{r.adapters[0].http_port}{slack_section(settings).http_path}"
                        for r in (a, b)]
                asked = []
                for i in range(8):
                    envelope = slack.mention(f"C{i % 2}", f"How many vacation days do we get? ({i})")
                    assert (await asyncio.to_thread(slack.post_signed, urls[i % 2], envelope))[0] == 200
                    retried = await asyncio.to_thread(slack.post_signed, urls[(i + 1) % 2], envelope, retry_num=1)
                    assert retried[0] == 200
                    asked.append(envelope["event"])
                await eventually(lambda: all(slack_final(slack, e["channel"], e["ts"]) for e in asked), timeout=30,
                                 what="eight answers")
                await quiet_for(1)
                assert [len(slack.thread_replies(e["channel"], e["ts"])) for e in asked] == [1] * 8
                assert len(llm.chat_requests) == 8
                answered = 'kbot_answers_total{grounded="true",platform="slack"}'
                assert metric(a, answered) + metric(b, answered) == 8 and metric(a, answered) and metric(b, answered)

        asyncio.run(scenario())


def test_telegram_webhook_behind_a_load_balancer_answers_each_update_once(make_settings, llm) -> None:
    """One webhook URL (the load balancer), several processes behind it; Telegram re-sends an update
    it saw no answer to, and the re-send may land on the other process."""
    from tests.fakes.telegram_server import TOKEN, FakeTelegram
    from tests.support.bots import free_port, platform_settings

    with FakeTelegram() as tg:
        ports = [free_port(), free_port()]

        def settings(port: int):  # type: ignore[no-untyped-def]
            return platform_settings(make_settings, llm, telegram={
                "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
                "mode": "webhook", "webhook_url": "https://kbot.example.org/telegram-hook",
                "webhook_host": "127.0.0.1", "webhook_port": port, "webhook_secret": "hook-secret"})

        first, second = knowledge_bot(settings(ports[0]), {}), knowledge_bot(settings(ports[1]), {})
        llm.token_delay_s = 0.01

        async def scenario() -> None:
            async with running_bot(first), running_bot(second):
                assert tg.state.webhook["url"] == "https://kbot.example.org/telegram-hook"  # both set the same
                urls = [f"http://127.0.0.1:{port}/telegram-hook" for port in ports]
                chats = [5001 + i for i in range(6)]
                for i, chat in enumerate(chats):
                    update = tg.make_update(chat, "How many vacation days do we get?")
                    assert await asyncio.to_thread(tg.post_to_webhook, update, None, urls[i % 2]) == 200
                    assert await asyncio.to_thread(tg.post_to_webhook, update, None, urls[(i + 1) % 2]) == 200
                await eventually(lambda: all(telegram_final(tg, chat) for chat in chats), timeout=30,
                                 what="six answers")
                await quiet_for(1)
                assert all(len(tg.bot_messages(chat)) == 1 for chat in chats) and len(llm.chat_requests) == 6

        asyncio.run(scenario())
