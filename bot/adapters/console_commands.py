"""`/kb` commands in `kbot chat`: the same commands, run against the local knowledge base, jobs run inline."""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot import commands
from bot.access import AccessControl
from bot.channel_scopes import ChannelScopes
from bot.commands import CommandEnv, CommandRequest, Upload
from bot.config import Settings
from bot.conversation import Conversation
from bot.jobs import JobQueue, JobView
from bot.messages import Incoming, ThreadKey
from bot.rates import RateLimiter
from bot.removal import DocumentRemover
from bot.scopes import GLOBAL


class ConsoleCommands:
    def __init__(self, conversation: Conversation, settings: Settings, out: TextIO = sys.stdout) -> None:
        from bot.app import build_indexer, url_policy

        engine = conversation.memory.engine
        self.queue = JobQueue(engine, build_indexer(settings, conversation.knowledge_base, for_chat=True),
                              settings.data_path / "uploads")
        self.env = CommandEnv(conversation.knowledge_base, self.queue, RateLimiter(engine), AccessControl(engine),
                              DocumentRemover(conversation.knowledge_base, conversation.memory, self.queue),
                              channel_scopes=ChannelScopes(engine),
                              url_policy=url_policy(settings), uploads_per_hour=settings.jobs.uploads_per_hour)
        self.out = out

    async def run(self, text: str, thread: str, scopes: frozenset[str]) -> None:
        parsed = commands.parse(text)
        assert parsed is not None
        name, args = parsed
        upload = None
        if name == "upload" and args:
            path = Path(args).expanduser()
            if not path.is_file():
                self.out.write(f"No file at {path}. Usage in kbot chat: /kb upload PATH\n")
                return
            upload = Upload(path.name, path.stat().st_size, lambda: asyncio.to_thread(path.read_bytes))
        where = next((s for s in sorted(scopes) if s != GLOBAL), GLOBAL)
        incoming = Incoming(ThreadKey("cli", "local", "cli", thread), getpass.getuser(), text, scopes, is_admin=True,
                            operator=True)
        refs: list[str] = []

        async def post(line: str) -> dict:
            self.out.write(line + "\n")
            refs.append(uuid.uuid4().hex)
            return {"platform": "cli", "ref": refs[-1]}

        reply = await commands.run(name, CommandRequest(incoming, args, upload_scope=where, upload=upload),
                                   self.env, post)
        if reply.text:
            self.out.write(reply.text + "\n")
        for job in await asyncio.to_thread(self.queue.recent, {where}, 20):
            if job.state == "queued" and job.target.get("ref") in refs:
                await asyncio.to_thread(self._run_inline, job.id)

    def _run_inline(self, job_id: int) -> None:
        """No background runner in a terminal session: the job runs now, its progress on one line."""
        job = self.queue.claim(job_id)
        if job is None:
            return

        def show(view: JobView) -> None:
            self.out.write(f"\r{view.describe()}\x1b[K")
            self.out.flush()

        ended = self.queue.run(job, show)
        assert ended is not None  # only an interrupt (a stopping `kbot run`) leaves a job unended
        self.queue.take_notification(job_id)
        self.out.write(f"\r{ended.describe()}\x1b[K\n")
