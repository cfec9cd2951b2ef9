"""Past one process: indexing workers and chat processes sharing one real PostgreSQL.

Run: .venv/bin/python bench/scale.py [--docs 200] [--questions 200] [--workers 1,2,4] [--chats 1,2]
     [--embedders none,local] [--runs 1]
- Indexing: `--docs` generated Markdown documents (about 3 chunks each) are queued as uploads; N
  `kbot run --role worker` processes index them into one LanceDB folder. Printed: jobs per minute
  (from the first job queued to the last done), duplicated work (job runs beyond one per job, and
  jobs that failed; target 0), and how the jobs split over the workers.
- Answering: M `kbot run --role chat` processes on the fake Slack (every event sent to every Socket
  Mode connection, the worst case for duplicates) answer `--questions` questions with the fake
  model (10 tokens). Printed: answers per minute, questions with no answer or more than one
  (target 0), and how the answers split over the processes.
PostgreSQL: $KBOT_TEST_POSTGRES_URL, else scripts/test-postgres start. Each configuration gets a
new database. Workers and chat processes are real `python -m bot run` processes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import create_engine, make_url, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import BENCH_LIMITS, sentence  # noqa: E402
from tests.fakes.openai_server import serve_openai  # noqa: E402
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack  # noqa: E402
from tests.support.kbot_process import KbotProcess  # noqa: E402

HANDBOOK = "# Time off\n\n## Vacation\n\nEvery employee gets 25 vacation days a year.\n"


def _postgres() -> str:
    url = os.environ.get("KBOT_TEST_POSTGRES_URL") or " ".join(subprocess.run(
        [str(ROOT / "scripts" / "test-postgres"), "start"], capture_output=True, text=True).stdout.split()[:1])
    if not url:
        raise SystemExit("no PostgreSQL: set KBOT_TEST_POSTGRES_URL or install Debian's postgresql")
    return url


def _new_database(base: str) -> str:
    name = f"kbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def _documents(count: int) -> dict[str, str]:
    rng = random.Random(7)
    return {f"doc{i:03}.md": f"# Document {i}\n\n" + "\n\n".join(
        f"## Part {p}\n\n" + " ".join(sentence(rng, 14) for _ in range(9)) for p in range(3)) for i in range(count)}


def index_once(base_url: str, workers: int, embedder: str, docs: dict[str, str]) -> dict[str, Any]:
    from bot.app import App
    from bot.state.db import JobRow
    from bot.wiring import parse_settings

    database = _new_database(base_url)
    with tempfile.TemporaryDirectory(prefix="kbot-scale-") as folder:
        root = Path(folder)
        # Each worker embeds with its share of the cores (embedder.threads), as the README advises.
        threads = max(1, (os.cpu_count() or 1) // workers) if embedder == "local" else 0
        config = {"data_dir": "data", "database": {"url": database},
                  "embedder": {"kind": embedder, **({"threads": threads} if threads else {})},
                  "llm": {"kind": "extractive"}, "jobs": {"resync_minutes": 0, "uploads_per_hour": 100_000}}
        (root / "config.yaml").write_text(yaml.safe_dump(config))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        processes = [KbotProcess("worker", root, env, i) for i in range(workers)]
        try:
            _wait(lambda: all(p.ready() for p in processes), 300, "the workers")
            queue = App(parse_settings(config, root=root)).jobs
            started = time.monotonic()
            for name, text in docs.items():
                queue.enqueue_file(text.encode(), name, "global", "bench", None)
            engine = create_engine(database)

            def jobs() -> list[Any]:
                with Session(engine) as session:
                    return list(session.execute(select(JobRow.state, JobRow.attempts, JobRow.runner)))

            _wait(lambda: all(state in ("done", "failed") for state, _, _ in jobs()), 3600, "the jobs")
            took = time.monotonic() - started
            rows = jobs()
            for process in processes:
                for line in process.log_path.read_text().splitlines():
                    if "failed" in line and "kbot.jobs" in line or "Error" in line:
                        print("    " + line[:300], flush=True)
            engine.dispose()
        finally:
            for process in processes:
                process.stop()
    return {"jobs_per_min": len(rows) / took * 60, "seconds": took,
            "duplicated": sum(attempts - 1 for _, attempts, _ in rows),
            "failed": sum(state == "failed" for state, _, _ in rows),
            "split": sorted(Counter(runner for _, _, runner in rows).values(), reverse=True)}


def answer_once(base_url: str, chats: int, questions: int) -> dict[str, Any]:
    from bot.app import App
    from bot.wiring import parse_settings

    database = _new_database(base_url)
    with FakeSlack() as slack, serve_openai() as llm, tempfile.TemporaryDirectory(prefix="kbot-scale-") as folder:
        llm.reply_tokens = ["Every employee gets 25 vacation days a year [1]."] + [f" w{i}" for i in range(9)]
        llm.token_delay_s = 0.02
        root = Path(folder)
        config = {"data_dir": "data", "database": {"url": database}, "embedder": {"kind": "none"},
                  "llm": {"kind": "openai", "base_url": llm.base_url, "api_key": "bench", "model": "fake"},
                  "slack": {"enabled": True, "bot_token": BOT_TOKEN, "app_token": APP_TOKEN,
                            "base_url": slack.api_base, "access": "open"},
                  "limits": BENCH_LIMITS, "jobs": {"resync_minutes": 0}}
        (root / "config.yaml").write_text(yaml.safe_dump(config))
        App(parse_settings(config, root=root)).indexer.index_bytes(HANDBOOK.encode(), "markdown", "handbook.md",
                                                                    "global")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        processes = [KbotProcess("chat", root, env, i) for i in range(chats)]
        try:
            _wait(lambda: all(p.ready() for p in processes) and slack.connections == chats, 300, "the chat processes")
            asked = []
            started = time.monotonic()
            for i in range(questions):
                envelope = slack.mention(f"C{i % 20}", f"How many vacation days do we get? ({i})")
                slack.deliver(envelope)
                asked.append(envelope["event"])

            def answered() -> list[int]:
                return [sum(1 for m in slack.thread_replies(e["channel"], e["ts"]) if m.blocks) for e in asked]

            _wait(lambda: all(answered()), 600, "the answers")
            took = time.monotonic() - started
            time.sleep(2)  # late duplicates would land now
            counts = answered()
            split = sorted((int(p.counter("kbot_answers_total")) for p in processes), reverse=True)
        finally:
            for process in processes:
                process.stop()
    return {"answers_per_min": questions / took * 60, "seconds": took, "missing": counts.count(0),
            "duplicated": sum(c - 1 for c in counts if c > 1), "split": split, "429s": slack.state.too_many_requests}


def _spread(values: list[float]) -> str:
    return f"{statistics.mean(values):7.1f}" + (f" ± {statistics.stdev(values):.1f}" if len(values) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--chats", default="1,2")
    parser.add_argument("--embedders", default="none,local")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    base = _postgres()
    docs = _documents(args.docs)
    print(f"machine: {os.cpu_count()} cores; PostgreSQL {make_url(base).render_as_string(hide_password=True)}")
    print(f"\nindexing {args.docs} documents ({sum(len(t.split()) for t in docs.values())} words) with N workers")
    for embedder in [e for e in args.embedders.split(",") if e]:
        for workers in [int(n) for n in args.workers.split(",") if n]:
            results = [index_once(base, workers, embedder, docs) for _ in range(args.runs)]
            rate = _spread([r["jobs_per_min"] for r in results])
            print(f"  embedder {embedder:5}  workers {workers}:  jobs/min {rate}"
                  f"  ({statistics.mean(r['seconds'] for r in results):.1f} s)  duplicated runs "
                  f"{sum(r['duplicated'] for r in results)}  failed {sum(r['failed'] for r in results)}"
                  f"  split {results[-1]['split']}", flush=True)
    print(f"\nanswering {args.questions} questions (fake Slack, every event to every connection) with M chat processes")
    for chats in [int(n) for n in args.chats.split(",") if n and int(n) > 0]:
        results = [answer_once(base, chats, args.questions) for _ in range(args.runs)]
        print(f"  chat processes {chats}:  answers/min {_spread([r['answers_per_min'] for r in results])}"
              f"  ({statistics.mean(r['seconds'] for r in results):.1f} s)  unanswered "
              f"{sum(r['missing'] for r in results)}  answered twice {sum(r['duplicated'] for r in results)}"
              f"  429s {sum(r['429s'] for r in results)}  split {results[-1]['split']}", flush=True)


if __name__ == "__main__":
    main()
