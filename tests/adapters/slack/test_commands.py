"""`/kb` on Slack end to end: files shared in a DM are indexed with live progress and stay in that DM."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from tests.fakes.slack_server import FakeSlack
from tests.support.bots import eventually, knowledge_bot, running_bot
from tests.support.platforms import slack_final, slack_settings
from tests.support.samples import make_encrypted_pdf, make_pdf, page_image


def test_shared_file_progress_private_answer_and_admin_delete(make_settings, llm, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "falcon.pdf", [
        "Project Falcon overview. The team ships the new launcher in spring.",
        "Falcon security. The Falcon launch code word is ORCHID; only the Falcon team may use it."])
    with FakeSlack() as slack:
        slack.state.workspace_admins.add("UADMIN")
        settings = slack_settings(make_settings, llm, slack)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                slack.deliver(slack.slash("C1", "upload", command="/kb"), kind="slash_commands")
                how = await eventually(lambda: slack.state.ephemeral, what="how to upload")
                assert "Share the file with me" in how[0]["text"]

                bad = slack.share_file("D1", "tool.exe", b"MZ\x90\x00")
                slack.deliver(bad)
                reason = await eventually(lambda: [m for m in slack.state.messages.values()
                                                   if "unsupported file type .exe" in m.text], what="the reason")
                assert reason[0].thread_ts == bad["event"]["ts"]
                locked = slack.share_file("D1", "locked.pdf", make_encrypted_pdf(tmp_path / "l.pdf").read_bytes())
                slack.deliver(locked)
                await eventually(lambda: [m for m in slack.state.messages.values()
                                          if m.text.startswith("✗ locked.pdf") and "password-protected" in m.text],
                                 timeout=60, what="the failed job")

                shared = slack.share_file("D1", "falcon.pdf", pdf.read_bytes())
                slack.deliver(shared)
                progress = await eventually(lambda: [m for m in slack.state.messages.values()
                                                     if m.channel == "D1" and m.text.startswith("✓")],
                                            timeout=60, what="the job's end")
                assert progress[0].text.startswith("✓ falcon.pdf indexed: ") and progress[0].updates >= 1

                dm = slack.message("D1", "What is the Falcon launch code word?", channel_type="im")
                slack.deliver(dm)
                answer = await eventually(lambda: slack_final(slack, "D1", dm["event"]["ts"]), what="the DM answer")
                assert "falcon.pdf" in answer.visible() and "p. 2" in answer.visible()

                public = slack.mention("C1", "What is the Falcon launch code word?")
                slack.deliver(public)
                elsewhere = await eventually(lambda: slack_final(slack, "C1", public["event"]["ts"]),
                                             what="C1's answer")
                assert "falcon.pdf" not in elsewhere.visible()  # a DM's upload stays in the DM

                slack.deliver(slack.slash("D1", "delete falcon.pdf", user="U1", command="/kb"), kind="slash_commands")
                await eventually(lambda: len(slack.state.ephemeral) >= 2, what="the refusal")
                assert "Only admins" in slack.state.ephemeral[-1]["text"]
                admin_delete = slack.slash("D1", "delete falcon.pdf", user="UADMIN", command="/kb")
                slack.deliver(admin_delete, kind="slash_commands")
                await eventually(lambda: len(slack.state.ephemeral) >= 3 or any(
                    m.text.startswith("Deleted") for m in slack.state.messages.values()), what="the deletion")
                kb = running.service.conversation.knowledge_base
                assert not [s for s in kb.sources(["slack:T1:D1"]) if s.source == "falcon.pdf"]
            assert slack.state.too_many_requests == 0 and slack.state.rejected == []

        asyncio.run(scenario())


def test_a_photo_of_a_page_shared_in_a_dm_is_read_with_ocr(make_settings, llm) -> None:
    photo = io.BytesIO()
    page_image(["Release checklist", "Deploy on Tuesdays only", "Freeze starts at noon."]).save(photo, "PNG")
    with FakeSlack() as slack:
        app = knowledge_bot(slack_settings(make_settings, llm, slack), {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                await eventually(lambda: slack.connections == 1, what="the Socket Mode connection")
                slack.deliver(slack.share_file("D1", "checklist.png", photo.getvalue()))
                done = await eventually(lambda: [m for m in slack.state.messages.values()
                                                 if m.channel == "D1" and m.text.startswith("✓")], timeout=120,
                                        what="the job's end")
                assert done[0].text.startswith("✓ checklist.png indexed: 1 chunks")
                [hit] = running.service.conversation.knowledge_base.search("deploy Tuesdays", ["slack:T1:D1"], top_k=1)
                assert hit.meta["source"] == "checklist.png" and "Freeze starts at noon" in hit.content
            assert slack.state.rejected == []

        asyncio.run(scenario())
