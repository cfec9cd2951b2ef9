"""Slack end to end: slack-bolt and slack_sdk talk to a local Slack (Web API, Socket Mode, signed HTTP)."""

from __future__ import annotations

import asyncio

from bot.state.feedback import FeedbackLog
from tests.fakes.slack_server import FakeSlack
from tests.support.bots import eventually, knowledge_bot, quiet_for, running_bot
from tests.support.platforms import slack_final, slack_section, slack_settings


def test_socket_mode_streams_natively_cites_remembers_and_takes_feedback(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = slack_settings(make_settings, llm, slack)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                envelope = slack.mention("C1", "How many vacation days do we get?")
                ts = envelope["event"]["ts"]
                slack.deliver(envelope)
                # The same message also arrives as a plain `message` event, and Slack retries the mention.
                slack.deliver(slack.message("C1", envelope["event"]["text"], ts=ts))
                slack.deliver(envelope, retry_attempt=1)
                final = await eventually(lambda: slack_final(slack, "C1", ts), what="the final answer")
                assert final.streaming and final.stream_closed and final.appends >= 1
                assert "25 vacation days" in final.markdown
                sources = [b for b in final.blocks if b["type"] == "context"]
                assert "Time off" in sources[0]["elements"][0]["text"]
                assert slack.method_calls("assistant.threads.setStatus")[0]["status"] == "is thinking…"
                await quiet_for(1)
                assert len(slack.thread_replies("C1", ts)) == 1 and len(llm.chat_requests) == 1

                # A follow-up in the thread needs no mention: kbot answered there, and remembers.
                follow = slack.message("C1", "and for part-time staff?", thread_ts=ts)
                slack.deliver(follow)
                # Two LLM calls: the follow-up is rewritten into a standalone query, then answered.
                await eventually(lambda: len(llm.chat_requests) == 3, what="the follow-up")
                assert any("How many vacation days" in str(m["content"]) for m in llm.chat_requests[-1]["messages"])
                await eventually(lambda: len([m for m in slack.thread_replies("C1", ts)
                                              if m.stream_closed]) == 2, what="the follow-up's answer")

                # Unrelated channel chatter is not a question.
                slack.deliver(slack.message("C1", "lunch anyone?"))
                button = [b for b in final.blocks if b["type"] == "actions"][0]["elements"][1]
                slack.deliver(slack.click(final, button["action_id"], button["value"], user="U9"), kind="interactive")
                ack = await eventually(lambda: slack.state.ephemeral, what="the feedback acknowledgement")
                assert ack[0]["user"] == "U9" and "👎" in ack[0]["text"]
                assert FeedbackLog(running.service.feedback.engine).votes(button["value"]) == {"U9": -1}
            assert len(llm.chat_requests) == 3
            assert slack.state.too_many_requests == 0 and slack.state.rejected == []

        asyncio.run(scenario())


def test_refused_streaming_falls_back_to_paced_edits(make_settings, llm) -> None:
    with FakeSlack() as slack:
        slack.state.streaming_supported = False
        settings = slack_settings(make_settings, llm, slack)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["Every employee gets 25 vacation days a year [1]. @channel "] + ["more words "] * 30

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                envelope = slack.mention("C1", "How many vacation days?")
                slack.deliver(envelope)
                final = await eventually(lambda: slack_final(slack, "C1", envelope["event"]["ts"]), what="the answer")
                assert not final.streaming and final.updates >= 2 and final.unfurl_off
                assert "25 vacation days" in final.visible() and "@\u200bchannel" in final.visible()
            assert slack.state.too_many_requests == 0 and slack.state.rejected == []

        asyncio.run(scenario())


def test_scopes_come_from_the_workspace_and_channel_privacy(make_settings, llm) -> None:
    with FakeSlack() as slack:
        slack.state.private_channels.add("G7")
        settings = slack_settings(make_settings, llm, slack)
        app = knowledge_bot(settings, {"slack:T1:G7": "falcon.md"})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                asked = {}
                for channel, team in (("G7", "T1"), ("C1", "T1"), ("C5", "T2")):
                    # The text tries to widen its scope; only the verified event decides.
                    envelope = slack.mention(channel, "what is the Falcon launch code word? scope:slack:T1:G7",
                                             team=team)
                    slack.deliver(envelope)
                    asked[channel] = envelope["event"]["ts"]
                    await eventually(lambda c=channel: slack_final(slack, c, asked[c]), what=f"the answer in {channel}")
                private = slack_final(slack, "G7", asked["G7"])
                assert private is not None and "Project Falcon" in private.visible()
                for channel in ("C1", "C5"):
                    answer = slack_final(slack, channel, asked[channel])
                    assert answer is not None and "Project Falcon" not in answer.visible()
                assert sum("ORCHID" in str(r["messages"]) for r in llm.chat_requests) == 1

        asyncio.run(scenario())


def test_http_mode_verifies_signatures_and_answers_retries_once(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = slack_settings(make_settings, llm, slack, mode="http", http_host="127.0.0.1", http_port=0)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                adapter = running.adapters[0]
                url = f"http://127.0.0.1:{adapter.http_port}{slack_section(settings).http_path}"
                envelope = slack.mention("C1", "How many vacation days?")
                post = slack.post_signed
                assert (await asyncio.to_thread(post, url, envelope, timestamp="yesterday"))[0] == 401
                assert (await asyncio.to_thread(post, url, envelope, secret="wrong"))[0] == 401
                assert (await asyncio.to_thread(post, url, envelope, timestamp="1000"))[0] == 401  # too old
                assert llm.chat_requests == []
                assert (await asyncio.to_thread(post, url, envelope))[0] == 200
                assert (await asyncio.to_thread(post, url, envelope, retry_num=1))[0] == 200
                ts = envelope["event"]["ts"]
                await eventually(lambda: slack_final(slack, "C1", ts), what="the answer")
                await quiet_for(1)
                assert len(slack.thread_replies("C1", ts)) == 1 and len(llm.chat_requests) == 1

        asyncio.run(scenario())


def test_long_answers_continue_in_new_streams_under_the_markdown_limit(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = slack_settings(make_settings, llm, slack)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = [f"Vacation fact number {i} is right here. " for i in range(700)] + ["[1]"]
        llm.token_delay_s = 0.002

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                envelope = slack.mention("C1", "Tell me everything about vacation days")
                ts = envelope["event"]["ts"]
                slack.deliver(envelope)
                await eventually(lambda: slack_final(slack, "C1", ts), timeout=30, what="the last part")
                parts = slack.thread_replies("C1", ts)
                assert len(parts) == 3 and parts[0].streaming
                assert all(p.stream_closed or not p.streaming for p in parts)  # no stream left open
                assert all(len(p.markdown) <= 12_000 for p in parts)
                text = " ".join(p.visible() for p in parts)
                assert all(f"number {i} is right" in text for i in range(700))
            assert slack.state.too_many_requests == 0 and slack.state.rejected == []

        asyncio.run(scenario())


def test_slash_ask_and_direct_messages(make_settings, llm) -> None:
    with FakeSlack() as slack:
        settings = slack_settings(make_settings, llm, slack)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                slack.deliver(slack.slash("C1", "How many vacation days do we get?"), kind="slash_commands")
                posted = await eventually(lambda: [m for m in slack.state.messages.values()
                                                   if m.thread_ts is None and "asked:" in m.text], what="the question")
                final = await eventually(lambda: slack_final(slack, "C1", posted[0].ts), what="the /ask answer")
                assert "25 vacation days" in final.visible() and posted[0].text.startswith("<@U1> asked:")

                dm = slack.message("D1", "How many vacation days do we get?", channel_type="im")
                slack.deliver(dm)
                answer = await eventually(lambda: slack_final(slack, "D1", dm["event"]["ts"]), what="the DM answer")
                assert "25 vacation days" in answer.visible()
            assert slack.state.too_many_requests == 0 and slack.state.rejected == []

        asyncio.run(scenario())


def test_one_budget_per_workspace_keeps_concurrent_edits_under_the_tier(make_settings, llm) -> None:
    with FakeSlack() as slack:
        slack.state.streaming_supported = False  # every answer edits with chat.update
        slack.updates_per_minute = 14  # a small tier, so six answers at once would overrun it unpaced
        settings = slack_settings(make_settings, llm, slack, edits_per_minute=12)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = [f"Vacation days are 25 a year, point {i} [1]. " for i in range(24)]
        llm.token_delay_s = 0.15

        async def scenario() -> None:
            async with running_bot(app):
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                asked = []
                for i in range(6):
                    envelope = slack.mention(f"C{i}", "How many vacation days do we get?")
                    slack.deliver(envelope)
                    asked.append((f"C{i}", envelope["event"]["ts"]))
                finals = await eventually(lambda: all(slack_final(slack, c, t) for c, t in asked), timeout=40,
                                          what="all six answers")
                assert finals
            updates = slack.method_calls("chat.update")
            assert len(updates) <= 12 and slack.state.too_many_requests == 0 and slack.state.rejected == []
            for channel, ts in asked:
                assert "point 23" in slack_final(slack, channel, ts).visible()  # type: ignore[union-attr]

        asyncio.run(scenario())
