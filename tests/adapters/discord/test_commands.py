"""`/kb` on Discord end to end: an attachment is indexed with live progress, in its channel's scope."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from tests.fakes.discord_server import FakeDiscord
from tests.support.bots import eventually, knowledge_bot, running_bot
from tests.support.platforms import ELSEWHERE, GENERAL, SECRET, discord_final, discord_settings, discord_world
from tests.support.samples import make_pdf, page_image


def test_attachment_upload_progress_private_scope_and_admin_delete(make_settings, llm, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "falcon.pdf", [
        "Project Falcon overview. The team ships the new launcher in spring.",
        "Falcon security. The Falcon launch code word is ORCHID; only the Falcon team may use it."])
    with FakeDiscord() as discord:
        discord_world(discord)
        settings = discord_settings(make_settings, llm, discord)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app) as running:
                assert [c["name"] for c in discord.state.commands] == ["ask", "kb"]
                discord.kb(SECRET, "upload", attachment=("tool.exe", b"MZ\x90\x00"))
                await eventually(lambda: [m for m in discord.state.messages.values()
                                          if "unsupported file type .exe" in m.content], what="the reason")
                discord.kb(SECRET, "add", url="http://127.0.0.1:9/secret")
                await eventually(lambda: [m for m in discord.state.messages.values()
                                          if "private or local network" in m.content], what="the URL refusal")
                discord.kb(SECRET, "upload", attachment=("falcon.pdf", pdf.read_bytes()))
                done = await eventually(lambda: [m for m in discord.bot_messages(SECRET)
                                                 if m.content.startswith("✓")], timeout=60, what="the job's end")
                assert done[0].content.startswith("✓ falcon.pdf indexed: ") and done[0].edits >= 1

                question = discord.user_message(SECRET, "What is the Falcon launch code word?", mention_bot=True)
                answer = await eventually(lambda: discord_final(discord, SECRET, question["id"]), what="the answer")
                assert "falcon.pdf" in answer.content and "p. 2" in answer.content
                for channel in (GENERAL, ELSEWHERE):  # a private channel's upload stays there
                    asked = discord.user_message(channel, "What is the Falcon launch code word?", mention_bot=True)
                    other = await eventually(lambda c=channel, q=asked: discord_final(discord, c, q["id"]),
                                             what=channel)
                    assert "falcon.pdf" not in other.content

                before = len(discord.state.messages)
                discord.kb(SECRET, "delete", document="falcon.pdf")
                await eventually(lambda: len(discord.state.messages) > before, what="the refusal")
                kb = running.service.conversation.knowledge_base
                assert [s.source for s in kb.sources([f"discord:800000000000000001:{SECRET}"])] == ["falcon.pdf"]
                discord.kb(SECRET, "delete", document="falcon.pdf", manage_server=True)
                await eventually(lambda: not kb.sources([f"discord:800000000000000001:{SECRET}"]),
                                 what="the deletion")
                def replies() -> list[str]:
                    return [m.content for m in discord.state.messages.values()]

                await eventually(lambda: any(r.startswith("Deleted falcon.pdf") for r in replies()), what="the reply")
                assert any("Only admins" in r for r in replies())
            assert discord.state.too_many_requests == 0 and discord.state.rejected == []

        asyncio.run(scenario())


def test_admins_choose_a_preset_with_the_registered_subcommand(make_settings, llm) -> None:
    with FakeDiscord() as discord:
        discord_world(discord)
        app = knowledge_bot(discord_settings(make_settings, llm, discord), {})

        async def scenario() -> None:
            async with running_bot(app):
                kb = next(c for c in discord.state.commands if c["name"] == "kb")
                preset = next(o for o in kb["options"] if o["name"] == "preset")
                assert [c["value"] for c in preset["options"][0]["choices"]] == [
                    "fast", "balanced", "accurate", "default"]
                discord.kb(GENERAL, "preset", choice="accurate")
                await eventually(lambda: any("Only admins" in m.content for m in discord.state.messages.values())
                                 or any("Only admins" in str(r) for r in discord.state.interaction_responses),
                                 what="the refusal")
                discord.kb(GENERAL, "preset", choice="accurate", manage_server=True)
                await eventually(lambda: any("the accurate preset (chosen for this channel)" in str(r)
                                             for r in [*discord.state.interaction_responses,
                                                       *(m.content for m in discord.state.messages.values())]),
                                 what="the choice")
            assert discord.state.rejected == []

        asyncio.run(scenario())


def test_an_image_attached_to_kb_upload_is_read_with_ocr(make_settings, llm) -> None:
    photo = io.BytesIO()
    page_image(["Release checklist", "Deploy on Tuesdays only", "Freeze starts at noon."]).save(photo, "JPEG")
    with FakeDiscord() as discord:
        discord_world(discord)
        app = knowledge_bot(discord_settings(make_settings, llm, discord), {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                discord.kb(SECRET, "upload", attachment=("whiteboard.jpg", photo.getvalue()))
                done = await eventually(lambda: [m for m in discord.bot_messages(SECRET)
                                                 if m.content.startswith("✓")], timeout=120, what="the job's end")
                assert done[0].content.startswith("✓ whiteboard.jpg indexed: 1 chunks")
                kb = running.service.conversation.knowledge_base
                [hit] = kb.search("deploy Tuesdays", [f"discord:800000000000000001:{SECRET}"], top_k=1)
                assert hit.meta["source"] == "whiteboard.jpg"
            assert discord.state.rejected == []

        asyncio.run(scenario())
