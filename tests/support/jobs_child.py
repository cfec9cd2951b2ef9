"""A `kbot` process that only runs indexing jobs, for the crash-and-resume test (it gets killed)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.app import build_indexer, build_knowledge_base
from bot.core.jobs import JobView
from bot.jobs.queue import JobQueue
from bot.jobs.runner import JobRunner
from bot.state.engine import make_engine
from bot.wiring import parse_settings


async def main(root: Path, embeddings_url: str) -> None:
    settings = parse_settings({"data_dir": "data", "embedder": {"kind": "openai", "base_url": embeddings_url,
                                                                "api_key": "test", "batch_size": 4}}, root=root)
    kb = build_knowledge_base(settings)
    queue = JobQueue(make_engine(None, settings.data_path), build_indexer(settings, kb), stale_after_s=1)

    async def report(view: JobView) -> None:
        print(view.describe(), flush=True)

    runner = JobRunner(queue, report, poll_s=0.2, heartbeat_s=0.2)
    await runner.start()
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
