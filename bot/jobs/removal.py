"""Deleting a document means every copy of it: its chunks (and the store's old versions of them),
its job rows and stored upload, and the thread turns that quoted it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.queue import JobQueue
from bot.rag.knowledge_base import KnowledgeBase
from bot.state.engine import flush_deleted
from bot.state.memory import ThreadMemory


@dataclass(frozen=True)
class Removed:
    chunks: int
    jobs: int
    turns: int


class DocumentRemover:
    def __init__(self, knowledge_base: KnowledgeBase, memory: ThreadMemory, jobs: JobQueue | None = None) -> None:
        self.knowledge_base = knowledge_base
        self.memory = memory
        self.jobs = jobs

    def remove(self, source: str, scope: str) -> Removed:
        """Blocking (store and database): run it in a worker thread."""
        chunks = self.knowledge_base.delete_source(source, [scope])
        jobs = self.jobs.forget_source(source, scope) if self.jobs is not None else 0
        turns = self.memory.forget_source(source, scope)
        flush_deleted(self.memory.engine)
        return Removed(chunks, jobs, turns)
