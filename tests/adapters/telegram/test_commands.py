"""`/kb` on Telegram end to end: upload with live progress, answers citing the page, scopes, refusals, delete."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.rag.knowledge_base import source_filter
from bot.state.db import JobUploadRow
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, running_bot
from tests.support.platforms import telegram_settings
from tests.support.samples import make_encrypted_pdf, make_image_pdf, make_pdf, page_image

GROUP = -100777
OTHER_GROUP = -100888
ADMIN = 99
MEMBER = 5


def _stored_uploads(running) -> int:
    """Uploads the jobs table keeps (in the database, so a worker on any machine can read them)."""
    with Session(running.jobs.queue.engine) as session:
        return session.scalar(select(func.count()).select_from(JobUploadRow)) or 0


def _replies_to(tg: FakeTelegram, chat: int, message_id: int) -> list:
    return [m for m in tg.bot_messages(chat) if m.reply_to == message_id]


def test_upload_progress_answer_scope_refusal_and_delete(make_settings, llm, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "falcon.pdf", [
        "Project Falcon overview. The team ships the new launcher in spring.",
        "Falcon security. The Falcon launch code word is ORCHID; only the Falcon team may use it.",
        "Falcon budget. Travel is booked through the usual portal."])
    with FakeTelegram() as tg:
        tg.state.chat_admins.add(ADMIN)
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})
        llm.reply_tokens = ["The", " code", " word", " is", " ORCHID", " [1]", "."]

        async def scenario() -> None:
            async with running_bot(app) as running:
                upload = tg.user_document(GROUP, "falcon.pdf", pdf.read_bytes(), caption="/kb upload",
                                          user_id=MEMBER)
                command_id = upload["message"]["message_id"]
                progress = await eventually(lambda: [m for m in _replies_to(tg, GROUP, command_id)
                                                     if m.text.startswith("✓")], timeout=60, what="the job's end")
                assert progress[0].text.startswith("✓ falcon.pdf indexed: ") and progress[0].edits >= 1
                assert len(_replies_to(tg, GROUP, command_id)) == 1  # one message, edited as the job moved

                question = tg.user_message(GROUP, f"@{BOT_USERNAME} what is the Falcon launch code word?",
                                           chat_type="supergroup", user_id=MEMBER)
                answer = await eventually(lambda: [m for m in _replies_to(tg, GROUP, question["message"]["message_id"])
                                                   if m.reply_markup], what="the answer")
                assert "falcon.pdf" in answer[0].text and "p. 2" in answer[0].text

                # Another group neither lists nor retrieves it.
                listing = tg.user_message(OTHER_GROUP, "/kb list", chat_type="supergroup")
                shown = await eventually(lambda: _replies_to(tg, OTHER_GROUP, listing["message"]["message_id"]),
                                         what="the other group's list")
                assert "falcon.pdf" not in shown[0].text

                # Members may not delete; the chat's administrators may.
                refused = tg.user_message(GROUP, "/kb delete falcon.pdf", chat_type="supergroup", user_id=MEMBER)
                no = await eventually(lambda: _replies_to(tg, GROUP, refused["message"]["message_id"]),
                                      what="the refusal")
                assert "Only admins" in no[0].text
                kb = running.service.conversation.knowledge_base
                assert kb.chunk_metadata(source_filter("falcon.pdf", [f"telegram:{GROUP}"]))
                assert _stored_uploads(running) == 1
                deleted = tg.user_message(GROUP, "/kb delete falcon.pdf", chat_type="supergroup", user_id=ADMIN)
                yes = await eventually(lambda: _replies_to(tg, GROUP, deleted["message"]["message_id"]),
                                       what="the deletion")
                assert yes[0].text.startswith("Deleted falcon.pdf")
                assert kb.chunk_metadata(source_filter("falcon.pdf", [f"telegram:{GROUP}"])) == []
                assert _stored_uploads(running) == 0 and running.jobs.queue.recent({f"telegram:{GROUP}"}) == []
            assert tg.state.too_many_requests == 0 and tg.state.rejected == []

        asyncio.run(scenario())


def test_bad_files_get_their_reasons_and_nothing_is_indexed(make_settings, llm, tmp_path: Path) -> None:
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                locked = tg.user_document(GROUP, "locked.pdf", make_encrypted_pdf(tmp_path / "l.pdf").read_bytes(),
                                          caption="/kb upload")
                failed = await eventually(lambda: [m for m in _replies_to(tg, GROUP, locked["message"]["message_id"])
                                                   if m.text.startswith("✗")], timeout=60, what="the failure")
                assert "password-protected" in failed[0].text
                binary = tg.user_document(GROUP, "tool.exe", b"MZ\x90\x00", caption="/kb upload")
                refused = await eventually(lambda: _replies_to(tg, GROUP, binary["message"]["message_id"]),
                                           what="the refusal")
                assert "unsupported file type .exe" in refused[0].text
                empty = tg.user_message(GROUP, "/kb upload", chat_type="supergroup")
                how = await eventually(lambda: _replies_to(tg, GROUP, empty["message"]["message_id"]),
                                       what="the explanation")
                assert "caption /kb upload" in how[0].text
                local = tg.user_message(GROUP, "/kb add http://127.0.0.1:9/secret", chat_type="supergroup")
                blocked = await eventually(lambda: _replies_to(tg, GROUP, local["message"]["message_id"]),
                                           what="the private-address refusal")
                assert "private or local network" in blocked[0].text
                kb = running.service.conversation.knowledge_base
                assert {s.source for s in kb.sources([f"telegram:{GROUP}"])} == set()

        asyncio.run(scenario())


def test_admins_switch_the_shared_knowledge_off_and_on(make_settings, llm) -> None:
    with FakeTelegram() as tg:
        tg.state.chat_admins.add(ADMIN)
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        async def ask() -> str:
            question = tg.user_message(GROUP, "/ask How many vacation days do we get?", chat_type="supergroup")
            replies = await eventually(lambda: [m for m in _replies_to(tg, GROUP, question["message"]["message_id"])
                                                if m.reply_markup], what="the answer")
            return replies[0].text

        async def command(text: str, user: int) -> str:
            sent = tg.user_message(GROUP, text, chat_type="supergroup", user_id=user)
            replies = await eventually(lambda: _replies_to(tg, GROUP, sent["message"]["message_id"]), what=text)
            return replies[0].text

        async def scenario() -> None:
            async with running_bot(app):
                assert "25 vacation days" in await ask()
                assert "Only admins" in await command("/kb scope global off", MEMBER)
                shown = await command("/kb scope global off", ADMIN)
                assert "knowledge/ folder" not in shown and f"telegram:{GROUP}" in shown
                assert "couldn't find" in await ask()
                assert "knowledge/ folder" in await command("/kb scope global on", ADMIN)
                assert "25 vacation days" in await ask()
                assert "There is no /kb nonsense" in await command("/kb nonsense", MEMBER)
                assert "Only admins" in await command("/kb preset fast", MEMBER)
                assert "the fast preset (chosen for this channel)" in await command("/kb preset fast", ADMIN)
                assert "Retrieval preset: fast;" in await command("/kb scope", MEMBER)
                assert "25 vacation days" in await ask()

        asyncio.run(scenario())


def test_scans_and_photos_are_read_with_ocr_and_progress(make_settings, llm, tmp_path: Path) -> None:
    scan = make_image_pdf(tmp_path / "scan.pdf", [
        ["Backups and restores", "To restore a single table, stop the writer", "and run kbot restore --table users."],
        ["Offsite copies", "Snapshots are kept for thirty days", "in the Frankfurt bucket."],
        ["Contacts", "The on-call engineer owns restores."]])
    photo = io.BytesIO()
    page_image(["Release checklist", "Deploy on Tuesdays only", "Freeze starts at noon."]).save(photo, "JPEG")
    with FakeTelegram() as tg:
        settings = telegram_settings(make_settings, llm, tg)
        app = knowledge_bot(settings, {})

        async def scenario() -> None:
            async with running_bot(app) as running:
                upload = tg.user_document(GROUP, "scan.pdf", scan.read_bytes(), caption="/kb upload", user_id=MEMBER)
                command_id = upload["message"]["message_id"]
                [progress] = await eventually(lambda: [m for m in _replies_to(tg, GROUP, command_id)
                                                       if m.text.startswith("✓")], timeout=120, what="the scan's job")
                assert progress.text.startswith("✓ scan.pdf indexed: ")
                assert any(t.startswith("scan.pdf — reading page ") and t.endswith(" (OCR)") for t in progress.history)
                sent = tg.user_media(GROUP, "photo", caption="/kb upload", chat_type="supergroup", user_id=MEMBER,
                                     data=photo.getvalue())
                [done] = await eventually(lambda: [m for m in _replies_to(tg, GROUP, sent["message"]["message_id"])
                                                   if m.text.startswith("✓")], timeout=120, what="the photo's job")
                assert done.text.startswith(f"✓ photo-{sent['message']['message_id']}.jpg indexed: 1 chunks")
                kb = running.service.conversation.knowledge_base
                found = kb.search("restore a single table", [f"telegram:{GROUP}"], top_k=1)
                assert found[0].meta["source"] == "scan.pdf" and found[0].meta["page"] == 1
                found = kb.search("deploy on Tuesdays", [f"telegram:{GROUP}"], top_k=1)
                assert found[0].meta["source"].startswith("photo-")
            assert tg.state.rejected == []

        asyncio.run(scenario())
