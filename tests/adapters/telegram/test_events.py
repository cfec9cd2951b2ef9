"""Telegram updates -> `Incoming`: which messages are questions, their threads, scopes and places.
Real `telegram.Message` objects, made from Bot API payloads by python-telegram-bot itself."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Message

from bot.adapters.admins import AdminRule
from bot.adapters.reply_roots import ReplyRoots
from bot.adapters.telegram.events import TelegramEvents, attached_document, media_of, place_name, thread_link
from bot.core.messages import ThreadKey
from bot.core.scopes import GLOBAL

BOT = Bot("123:not-a-real-token")
KBOT_ID = 999
GROUP = -1001234567890
ALICE = {"id": 42, "is_bot": False, "first_name": "Alice", "last_name": "Lee"}
KBOT = {"id": KBOT_ID, "is_bot": True, "first_name": "kbot", "username": "kbot_test_bot"}


def _message(text: str = "", *, chat: dict[str, Any] | None = None, message_id: int = 10,
             **extra: Any) -> Message:
    payload = {"message_id": message_id, "date": 1_700_000_000, "from": ALICE, "text": text,
               "chat": chat or {"id": GROUP, "type": "supergroup", "title": "Team"}, **extra}
    message = Message.de_json(payload, BOT)
    assert message is not None
    return message


def _events(operators: frozenset[str] = frozenset()) -> TelegramEvents:
    events = TelegramEvents(AdminRule(operators), ReplyRoots())
    events.username, events.bot_id = "kbot_test_bot", KBOT_ID
    return events


def _mention(text: str) -> dict[str, Any]:
    start = text.index("@kbot_test_bot")
    return {"entities": [{"type": "mention", "offset": start, "length": len("@kbot_test_bot")}]}


def test_in_a_group_only_a_mention_or_a_reply_to_kbot_is_a_question() -> None:
    events = _events()
    assert events.addressed_text(_message("lunch anyone?")) is None
    text = "@kbot_test_bot how many vacation days?"
    assert events.addressed_text(_message(text, **_mention(text))) == "how many vacation days?"
    other = "@someone_else how many?"
    assert events.addressed_text(_message(other, entities=[{"type": "mention", "offset": 0, "length": 13}])) is None
    reply = _message("and sick days?", reply_to_message={"message_id": 9, "date": 1_700_000_000, "from": KBOT,
                                                          "chat": {"id": GROUP, "type": "supergroup"}, "text": "25"})
    assert events.addressed_text(reply) == "and sick days?"


def test_every_private_message_is_a_question_and_one_thread() -> None:
    events = _events()
    dm = _message("  hello ", chat={"id": 42, "type": "private", "first_name": "Alice"})
    assert events.addressed_text(dm) == "hello"
    assert events.thread_key(dm) == ThreadKey("telegram", "42", "42", "dm")
    assert place_name(dm) == "private chat with Alice Lee"


def test_a_caption_is_the_words_of_a_photo() -> None:
    events = _events()
    caption = "@kbot_test_bot what does this say?"
    photo = _message(caption="", photo=[{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}])
    photo = Message.de_json({**photo.to_dict(), "caption": caption,
                             "caption_entities": _mention(caption)["entities"]}, BOT)
    assert photo is not None and events.addressed_caption(photo) == "what does this say?"


def test_threads_are_topics_or_the_reply_chains_root() -> None:
    events = _events()
    topic = _message("q", message_thread_id=7, is_topic_message=True)
    assert events.thread_key(topic).thread == "topic:7"
    first = _message("q", message_id=10)
    assert events.thread_key(first).thread == "10"
    events.roots.recorder(10, lambda sent: (GROUP, sent))(11)  # kbot's answer 11 is in 10's thread
    answer = {"message_id": 11, "date": 1_700_000_000, "from": KBOT, "chat": {"id": GROUP, "type": "supergroup"},
              "text": "a"}
    follow_up = _message("and?", message_id=12, reply_to_message=answer)
    assert events.thread_key(follow_up).thread == "10"


def test_scopes_are_the_chats_and_admins_come_from_the_config() -> None:
    incoming = _events(frozenset({"42"})).incoming(_message("q"), "q")
    assert incoming.granted == frozenset({GLOBAL, f"telegram:{GROUP}"})
    assert incoming.is_admin and incoming.operator and incoming.author == "42"
    assert incoming.place_name == "Team"
    assert not _events().incoming(_message("q"), "q").is_admin


def test_documents_photos_and_media_are_found_on_the_message_or_its_reply() -> None:
    document = {"file_id": "d1", "file_unique_id": "u", "file_name": "plan.pdf", "file_size": 1234}
    assert attached_document(_message("q", document=document)) == ("plan.pdf", 1234, "d1")
    reply = _message("/kb upload", reply_to_message={"message_id": 5, "date": 1_700_000_000, "from": ALICE,
                                                     "chat": {"id": GROUP, "type": "supergroup"}, "document": document})
    assert attached_document(reply) == ("plan.pdf", 1234, "d1")
    sizes = [{"file_id": "small", "file_unique_id": "a", "width": 90, "height": 90, "file_size": 1},
             {"file_id": "large", "file_unique_id": "b", "width": 900, "height": 900, "file_size": 9}]
    assert attached_document(_message("", photo=sizes, message_id=3)) == ("photo-3.jpg", 9, "large")
    assert attached_document(_message("q")) is None
    voice = {"file_id": "v", "file_unique_id": "v", "duration": 3}
    assert media_of(_message("", voice=voice))[0] == ["a voice note"]


def test_thread_links_exist_only_for_supergroups() -> None:
    assert thread_link(ThreadKey("telegram", str(GROUP), str(GROUP), "10")) == "https://t.me/c/1234567890/10"
    assert thread_link(ThreadKey("telegram", "42", "42", "dm")) == "telegram chat 42, thread dm"
