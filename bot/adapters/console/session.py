"""The terminal as a place: `kbot ask` and `kbot chat` ask through the same service as chat platforms
(the same gate, memory and `/kb` commands); jobs a `/kb` command queues run at once, inline."""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot.chat import commands
from bot.core.jobs import JobView, ProgressTarget
from bot.core.messages import Answer, Incoming, ReplyPort, ThreadKey
from bot.core.requests import CommandRequest, Place, ThreadCapture, Upload
from bot.core.scopes import GLOBAL
from bot.core.service import ServicePort
from bot.jobs.execution import execute
from bot.jobs.queue import JobQueue
from bot.state.explanations import UNKNOWN

PLATFORM = "cli"
UPLOAD_HERE = "In kbot chat, give the file's path: /kb upload PATH (from the shell: kbot ingest PATH)."
IN_THE_TERMINAL = ("In kbot chat: /kb upload PATH indexes a file on this machine; the shell has the same as commands "
                   "(kbot ingest, kbot status, kbot delete, kbot gaps). exit, quit or an empty line leaves.")
WORKSPACE = "local"
CHANNEL = "terminal"


class TerminalSession:
    def __init__(self, service: ServicePort, jobs: JobQueue, thread: str, scopes: frozenset[str],
                 out: TextIO | None = None, preset: str = "") -> None:
        self.service = service
        self.jobs = jobs
        self.preset = preset  # "" : the configured retrieval preset
        self.thread = thread
        self.scopes = scopes
        self.out = out or sys.stdout

    def incoming(self, text: str) -> Incoming:
        """The operator, in their own place: an admin, allowed everywhere, scopes as they chose them."""
        return Incoming(ThreadKey(PLATFORM, WORKSPACE, CHANNEL, self.thread), getpass.getuser(), text, self.scopes,
                        is_admin=True, operator=True, place_name="this terminal", preset=self.preset)

    async def ask(self, text: str, port: ReplyPort) -> Answer | None:
        return await self.service.submit(self.incoming(text), lambda: port)

    async def explain(self, answer: Answer) -> str:
        """"Why these sources?" for an answer of this session, read back as a platform's button does."""
        return await self.service.explain(Place(PLATFORM, WORKSPACE, CHANNEL), answer.reply_id) or UNKNOWN

    async def command(self, text: str) -> None:
        name, args = commands.parse(text) or ("help", "")
        upload = None
        if name == "upload" and not args:
            self.out.write(f"{UPLOAD_HERE}\n")
            return
        if name == "upload" and args:
            path = Path(args).expanduser()
            if not path.is_file():
                self.out.write(f"No file at {path}. Usage in kbot chat: /kb upload PATH\n")
                return
            upload = Upload(path.name, path.stat().st_size, lambda: asyncio.to_thread(path.read_bytes))
        where = next((s for s in sorted(self.scopes) if s != GLOBAL), GLOBAL)
        posted: list[str] = []

        async def post(line: str) -> ProgressTarget:
            self.out.write(line + "\n")
            posted.append(uuid.uuid4().hex)
            return ProgressTarget(PLATFORM, WORKSPACE, CHANNEL, posted[-1])

        incoming = self.incoming(text)
        thread = ThreadCapture(incoming.key, f"kbot chat thread {self.thread}")  # kbot's memory is the thread
        request = CommandRequest(incoming, args, upload_scope=where, upload=upload, everywhere=True, thread=thread)
        reply = await self.service.command(name, request, post)
        if reply.text:
            self.out.write(reply.text + "\n")
        if name == "help":
            self.out.write(f"{IN_THE_TERMINAL}\n")
        for job in await asyncio.to_thread(self.jobs.recent, {where}, 20):
            if job.state == "queued" and job.target is not None and job.target.message in posted:
                await asyncio.to_thread(self._run_inline, job.id)

    def _run_inline(self, job_id: int) -> None:
        """No background runner in a terminal session: the job runs now, its progress on one line."""
        queue = self.jobs
        job = queue.claim(job_id)
        if job is None:
            return

        def show(view: JobView) -> None:
            self.out.write(f"\r{view.describe()}\x1b[K")
            self.out.flush()

        ended = execute(queue, job, show)
        assert ended is not None  # only an interrupt (a stopping `kbot run`) leaves a job unended
        queue.take_notification(job_id)
        self.out.write(f"\r{ended.describe()}\x1b[K\n")
