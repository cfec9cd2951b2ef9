"""The questions a running bot is answering: de-duplication, in-flight tracking, metrics, one log line each.

Adapters hand every verified question to `QuestionService.submit` and every feedback click to
`vote`; neither knows which platform it serves beyond the name used for labels.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot.chat import commands
from bot.chat.commands.base import CommandEnv
from bot.chat.conversation import Conversation
from bot.chat.gate import Gate
from bot.core.messages import Answer, Incoming, ReplyPort, ThreadKey
from bot.core.requests import Admission, CommandRequest, Place, PostProgress, Reply
from bot.core.scopes import in_private_place
from bot.insights.gaps import GapLog
from bot.ops.metrics import Metrics
from bot.state.database_watch import DatabaseWatch
from bot.state.deliveries import DeliveryLog
from bot.state.explanations import UNKNOWN, Explanations
from bot.state.feedback import FeedbackLog
from bot.state.rates import Limit
from bot.state.shared_answers import GONE, answer_to_share

log = logging.getLogger("kbot.answers")

SHUTDOWN_NOTICE = "kbot is restarting and couldn't finish this answer; please ask again in a minute."
NOT_ACCEPTING = "kbot is restarting; please ask again in a minute."
HOLD_MAX = 100  # questions held while the database is away, in this process
HOLD_S = 600.0  # how long a held question waits for the database before it is dropped
HELD = ("kbot cannot reach its database right now. Your question is kept and answered as soon as it is "
        "back (if that is within {minutes} minutes).")
AWAY = "kbot cannot reach its database right now; please ask again in a few minutes."


@dataclass
class Held:
    """A question that came while the database was away, to be answered when it is back."""

    incoming: Incoming
    port_factory: Callable[[], ReplyPort]
    private_port: Callable[[], ReplyPort] | None
    held_at: float


class QuestionService:
    def __init__(
        self, conversation: Conversation, deliveries: DeliveryLog, feedback: FeedbackLog, metrics: Metrics,
        gate: Gate, commands: CommandEnv | None = None, *, log_message_text: bool = False,
        explanations: Explanations | None = None, gaps: GapLog | None = None,
        default_visibility: str = "public", watch: DatabaseWatch | None = None,
    ) -> None:
        self.conversation = conversation
        self.deliveries = deliveries
        self.feedback = feedback
        self.metrics = metrics
        self.gate = gate  # access, length and rates first; then the channel's `/kb scope` choices narrow scopes
        self.commands = commands
        self.log_message_text = log_message_text
        self.explanations = explanations  # "why these sources?" clicks; None: the button says nothing is recorded
        self.gaps = gaps  # coverage-gap analytics; None: nothing is recorded
        self.default_visibility = default_visibility  # `answer.visibility`; a channel's `/kb visibility` wins
        self.accepting = True
        self._tasks: set[asyncio.Task[Answer | None]] = set()
        # The database as this process last saw it; questions asked while it is away wait in `_held`.
        self.watch = watch
        self._held: deque[Held] = deque()
        self._dropped = 0
        if watch is not None:
            watch.on_recovery(self._answer_held)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def claim(self, platform: str, event_key: str) -> bool:
        """First delivery of this platform event? Repeats (retries, replays, twin events) are counted and dropped."""
        try:
            first = await asyncio.to_thread(self.deliveries.claim, platform, event_key)
        except Exception as exc:
            if self.watch is None or not self.watch.failed(exc):
                raise
            return True  # no telling a repeat without the database; the question is held or refused next
        if not first:
            self.metrics.duplicates.labels(platform).inc()
        return first

    async def admit(self, incoming: Incoming) -> Admission:
        """The gate (place, length, rates, scope choices), counted. Adapters that must write something
        before answering (Slack `/ask` posts the question, Discord may open a thread) call it first and
        then `submit(..., admitted=True)`, so a refused message causes no write at all."""
        self.metrics.questions.labels(incoming.key.platform).inc()
        if self.watch is not None and self.watch.down:
            return Admission(None, "database", AWAY)
        try:
            admission = await asyncio.to_thread(self.gate.admit_question, incoming)
        except Exception as exc:
            if self.watch is None or not self.watch.failed(exc):
                raise
            return Admission(None, "database", AWAY)
        if admission.incoming is None:
            self.metrics.refused.labels(incoming.key.platform, admission.reason or "refused").inc()
        return admission

    def submit(self, incoming: Incoming, port_factory: Callable[[], ReplyPort], *, admitted: bool = False,
               private_port: Callable[[], ReplyPort] | None = None) -> asyncio.Task[Answer | None]:
        """Answer in the background, so the platform's event handler returns at once. `private_port`:
        where the asker alone sees the answer, used when the channel's visibility is private_first."""
        task = asyncio.create_task(self._answer(incoming, port_factory, admitted, private_port))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def trust(self, platform: str, workspace: str) -> None:
        """A place the platform itself vouches for (the workspace that installed the Slack app)."""
        self.gate.access.trust(platform, workspace)

    async def knows_thread(self, key: ThreadKey) -> bool:
        """Has kbot answered in this thread (a follow-up there needs no mention)? Blocking: database."""
        return await asyncio.to_thread(self.conversation.memory.knows, key)

    def private_first(self, incoming: Incoming) -> bool:
        """Does an answer to this (admitted) message go to the asker alone first?"""
        return (incoming.visibility or self.default_visibility) == "private_first"

    async def _answer(self, incoming: Incoming, port_factory: Callable[[], ReplyPort],
                      admitted: bool, private_port: Callable[[], ReplyPort] | None = None) -> Answer | None:
        platform = incoming.key.platform
        if not self.accepting:
            await port_factory().fail(NOT_ACCEPTING)
            return None
        started = time.monotonic()
        if not admitted:
            admission = await self.admit(incoming)
            if admission.reason == "database":
                await self._hold(Held(incoming, port_factory, private_port, time.monotonic()), port_factory())
                return None
            if admission.incoming is None:
                if admission.reply:
                    await port_factory().fail(admission.reply)
                return None
            incoming = admission.incoming
        port = private_port() if private_port is not None and self.private_first(incoming) else port_factory()
        try:
            answer = await self.conversation.answer(incoming, port)
        except asyncio.CancelledError:
            self.metrics.errors.labels(platform, "shutdown").inc()
            await _bounded(port.fail(SHUTDOWN_NOTICE), 5)
            raise
        except Exception as exc:  # the conversation lets only a database outage through
            if self.watch is None or not self.watch.failed(exc):
                raise
            await self._hold(Held(incoming, port_factory, private_port, time.monotonic()), port)
            return None
        latency = time.monotonic() - started
        if answer is None:
            self.metrics.errors.labels(platform, "answer").inc()
        else:
            self.metrics.answered(platform, answer, latency)
            await self._record_gap(incoming, answer)
        self._log(incoming, answer, latency)
        return answer

    async def _hold(self, held: Held, port: ReplyPort) -> None:
        """Keep a question until the database is back (bounded), and tell the person which it is."""
        self.metrics.errors.labels(held.incoming.key.platform, "database").inc()
        if len(self._held) >= HOLD_MAX or not self.accepting:
            self._dropped += 1
            await _bounded(port.fail(AWAY), 10)
            return
        self._held.append(held)
        await _bounded(port.fail(HELD.format(minutes=round(HOLD_S / 60))), 10)

    async def _answer_held(self, _away_s: float) -> str:
        """The database is back: answer what was held (as asked, through the gate again), drop what
        waited too long. Returns what happened, for the watch's log line."""
        answered = expired = 0
        now = time.monotonic()
        while self._held:
            held = self._held.popleft()
            if now - held.held_at > HOLD_S or not self.accepting:
                expired += 1
                continue
            self.submit(held.incoming, held.port_factory, private_port=held.private_port)
            answered += 1
        dropped, self._dropped = self._dropped + expired, 0
        return f"{answered} held question(s) being answered, {dropped} dropped"

    async def _record_gap(self, incoming: Incoming, answer: Answer) -> None:
        """Analytics never cost an answer: a failure to record is logged and forgotten."""
        if self.gaps is None:
            return
        try:
            await asyncio.to_thread(self.gaps.record_answer, incoming.key, incoming.text, answer,
                                    in_private_place(incoming.scopes))
        except Exception:
            log.warning("could not record a coverage gap (reply %s)", answer.reply_id, exc_info=True)

    def _log(self, incoming: Incoming, answer: Answer | None, latency: float) -> None:
        line: dict[str, object] = {
            "event": "answer" if answer is not None else "answer_failed",
            "platform": incoming.key.platform,
            "workspace": incoming.key.workspace,
            "channel": incoming.key.channel,
            "latency_ms": round(latency * 1000),
        }
        if answer is not None:
            line.update({
                "mode": answer.mode, "grounded": answer.grounded, "reply_id": answer.reply_id,
                "first_token_ms": None if answer.first_token_s is None else round(answer.first_token_s * 1000),
                "sources": [f"{s.source}" + (f"#p{s.page}" if s.page else "") for s in answer.sources],
            })
        if self.log_message_text:
            line["question"] = self.conversation.memory.redact(incoming.text)
        log.info(json.dumps(line, ensure_ascii=False))

    async def command(self, name: str, request: CommandRequest, post: PostProgress) -> Reply:
        """Run one `/kb` command; any failure becomes a short reply, never silence."""
        platform = request.incoming.key.platform
        self.metrics.commands.labels(platform, name if name in commands.COMMANDS else "unknown").inc()
        if self.commands is None:
            return Reply("Knowledge commands are not available in this process.", private=True)
        if self.watch is not None and self.watch.down:
            return Reply(AWAY, private=True)
        try:
            admission = await asyncio.to_thread(self.gate.admit_command, request.incoming)
            if admission.incoming is None:
                self.metrics.refused.labels(platform, admission.reason or "refused").inc()
                return Reply(admission.reply or "", private=True)
            request = replace(request, incoming=admission.incoming)
            return await commands.run(name, request, self.commands, post)
        except Exception as exc:
            if self.watch is not None and self.watch.failed(exc):
                return Reply(AWAY, private=True)
            logging.getLogger("kbot.commands").exception("/kb %s failed", name)
            self.metrics.errors.labels(platform, "command").inc()
            return Reply(f"Something went wrong running /kb {name}; please try again.", private=True)

    async def vote(self, platform: str, reply_id: str, user: str, value: int) -> str:
        """Store a 👍/👎 click and return the acknowledgement to show the person."""
        self.metrics.feedback.labels(platform, "up" if value > 0 else "down").inc()
        try:
            thanks = await asyncio.to_thread(self.feedback.record, reply_id, user, value)
        except Exception as exc:
            if self.watch is None or not self.watch.failed(exc):
                raise
            return AWAY
        if self.gaps is not None:
            try:
                await asyncio.to_thread(self.gaps.record_vote, reply_id)
            except Exception:
                log.warning("could not record a 👎 as a coverage gap (reply %s)", reply_id, exc_info=True)
        return thanks

    async def share(self, platform: str, reply_id: str, user: str, channel: str) -> Answer | str:
        """A private answer, to post in `channel`: the answer, or why it can't be (not the asker's, or
        not asked there)."""
        self.metrics.commands.labels(platform, "share").inc()
        if not reply_id or len(reply_id) > 64:
            return GONE
        return await asyncio.to_thread(answer_to_share, self.feedback.engine, reply_id, user, platform, channel)

    async def explain(self, place: Place, reply_id: str, *, once_per_minutes: int = 0) -> str | None:
        """The "why these sources?" text for an answer given in `place`. With `once_per_minutes`
        (where the reply is seen by everyone, as in a Telegram group), None when it was shown that
        recently: one click posts it, a hundred do not."""
        self.metrics.commands.labels(place.platform, "why").inc()
        if self.explanations is None or not reply_id or len(reply_id) > 64:
            return UNKNOWN
        if once_per_minutes > 0:
            limit = Limit("why", f"why:{place.platform}:{place.workspace}:{reply_id}", 1, once_per_minutes * 60)
            if await asyncio.to_thread(self.gate.rates.admit, [limit]) is not None:
                return None
        log.info(json.dumps({"event": "why", "platform": place.platform, "reply_id": reply_id}))
        return await asyncio.to_thread(self.explanations.explain, reply_id, place)

    async def shutdown(self, grace_s: float) -> None:
        """Take nothing new; give in-flight answers `grace_s`, then end them with a short notice."""
        self.accepting = False
        pending = set(self._tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=10)


async def _bounded(call: Awaitable[None], seconds: float) -> None:
    try:
        await asyncio.wait_for(call, seconds)
    except Exception:  # the notice is best effort; the platform may already be gone
        logging.getLogger("kbot.service").warning("could not deliver the shutdown notice", exc_info=True)
