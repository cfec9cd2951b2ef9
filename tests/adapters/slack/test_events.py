"""Slack events -> `Incoming`: privacy from Slack itself (the event's channel_type, else
conversations.info, asked again for uploads), admins from users.info, and what a message carries."""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.admins import AdminRule
from bot.adapters.slack.events import SlackEvents, in_private_channel, media_of, question_text
from bot.core.scopes import GLOBAL
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack


def _events(slack: FakeSlack, operators: frozenset[str] = frozenset()) -> SlackEvents:
    return SlackEvents(AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_base), AdminRule(operators))


def test_a_public_channel_grants_the_workspace_and_a_private_one_only_itself() -> None:
    with FakeSlack() as slack:
        slack.state.private_channels.add("G1")
        events = _events(slack)

        async def scenario() -> None:
            public = await events.incoming("T1", "C1", "1.0", "U1", "hi", {})
            private = await events.incoming("T1", "G1", "1.0", "U1", "hi", {})
            assert GLOBAL in public.granted and "slack:T1" in public.granted
            assert "slack:T1:C1" not in public.granted and not in_private_channel(public)
            assert "slack:T1:G1" in private.granted and in_private_channel(private)
            assert public.key.thread == "1.0" and public.key.channel == "C1"

        asyncio.run(scenario())


def test_the_events_channel_type_is_trusted_without_asking_slack() -> None:
    with FakeSlack() as slack:
        events = _events(slack)
        dm = asyncio.run(events.incoming("T1", "D1", "1.0", "U1", "hi", {}, channel_type="im"))
        assert in_private_channel(dm)
        assert slack.method_calls("conversations.info") == []


def test_a_public_answer_is_reused_but_uploads_ask_again() -> None:
    """A channel made private must never have an upload land in the whole workspace."""
    with FakeSlack() as slack:
        events = _events(slack)

        async def scenario() -> None:
            assert not await events.is_private("C1")
            assert not await events.is_private("C1")
            assert len(slack.method_calls("conversations.info")) == 1
            slack.state.private_channels.add("C1")
            assert await events.is_private("C1", fresh=True)
            assert len(slack.method_calls("conversations.info")) == 2

        asyncio.run(scenario())


def test_admins_are_kbots_operators_and_whom_users_info_says_administers() -> None:
    with FakeSlack() as slack:
        slack.state.workspace_admins.add("UADMIN")
        events = _events(slack, frozenset({"UOPS"}))

        async def scenario() -> None:
            assert await events.platform_admin("UADMIN")
            assert not await events.platform_admin("U1")
            operator = await events.incoming("T1", "C1", "1.0", "UOPS", "hi", {})
            member = await events.incoming("T1", "C1", "1.0", "U1", "hi", {})
            assert operator.is_admin and operator.operator
            assert not member.is_admin and not member.operator

        asyncio.run(scenario())


def test_question_text_drops_mentions_and_media_are_named() -> None:
    assert question_text({"text": "<@UKBOT> how many  days? <@U2>"}) == "how many  days?"
    assert question_text({}) == ""
    kinds, files = media_of({"files": [
        {"mimetype": "image/png", "name": "a.png"}, {"mimetype": "image/jpeg", "name": "b.jpg"},
        {"subtype": "slack_audio", "mimetype": "audio/webm"}, {"mimetype": "application/pdf", "name": "plan.pdf"}]})
    assert kinds == ["a photo", "a voice clip"] and files == ["plan.pdf"]


def test_a_channel_slack_will_not_describe_counts_as_private() -> None:
    """conversations.info failing (here: a token Slack refuses) is the narrower answer, never the workspace."""
    with FakeSlack() as slack:
        events = SlackEvents(AsyncWebClient(token="xoxb-revoked", base_url=slack.api_base), AdminRule(frozenset()))
        assert asyncio.run(events.is_private("C1"))
