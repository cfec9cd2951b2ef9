"""Indexing in the background while people ask: 20 documents uploaded at once, 20 questions at once.

Run: .venv/bin/python bench/jobs.py [--documents 20] [--questions 20]
`kbot run` (its own process, default local embeddings, a fake LLM at 50 tokens/s) on the local Telegram
Bot API fake. Printed: answer latency p50/p95 with no indexing and while the uploads index (target:
p95 no more than 1.5x), documents per minute, and 429s received.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_LIMITS,
    english_sentences,
    percentile,
    run_main,
    start_kbot,
    stream_like_a_model,
    telegram_config,
)
from tests.fakes import telegram_server  # noqa: E402
from tests.fakes.openai_server import serve_openai  # noqa: E402
from tests.support.samples import make_pdf  # noqa: E402

HANDBOOK = ("# Time off\n\n## Vacation\n\nEvery employee gets 25 vacation days a year. Part-time staff get "
            "vacation days in proportion to their hours.\n")


async def ask_all(tg: telegram_server.FakeTelegram, chats: list[int]) -> list[float]:
    """One question in each private chat at once; seconds from each question to its final answer."""
    asked = {}
    for chat in chats:
        update = tg.user_message(chat, "How many vacation days do we get?")
        asked[chat] = (update["message"]["message_id"], time.perf_counter())
    done: dict[int, float] = {}
    while len(done) < len(chats):
        for chat in chats:
            if chat not in done and any(m.reply_markup for m in tg.bot_messages(chat)):
                done[chat] = time.perf_counter() - asked[chat][1]
        await asyncio.sleep(0.02)
    return list(done.values())


async def run(documents: int, questions: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kbot-bench-jobs-"))
    sentences = english_sentences()
    pdfs = []
    for d in range(documents):
        pages = [" ".join(sentences[(d * 37 + p * 11 + i) % len(sentences)] for i in range(28)) for p in range(6)]
        pdfs.append(make_pdf(tmp / f"report-{d:02d}.pdf", pages).read_bytes())
    with serve_openai() as llm, telegram_server.FakeTelegram() as tg:
        stream_like_a_model(llm)
        config = telegram_config(tmp, llm, tg, limits=BENCH_LIMITS)  # counted, never refused
        bot, _ = await asyncio.to_thread(start_kbot, tmp, config, {"handbook.md": HANDBOOK})
        print(f"kbot log: {tmp / 'kbot.log'}")
        await ask_all(tg, [9000 + i for i in range(3)])  # warm-up
        idle = await ask_all(tg, [1000 + i for i in range(questions)])

        started = time.perf_counter()
        uploads = {}
        for d, data in enumerate(pdfs):
            chat = -1000 - d
            update = tg.user_document(chat, f"report-{d:02d}.pdf", data, caption="/kb upload")
            uploads[chat] = update["message"]["message_id"]
        await asyncio.sleep(1.0)  # the jobs are queued and the first is indexing
        busy = await ask_all(tg, [2000 + i for i in range(questions)])
        still_indexing = sum(1 for chat in uploads if not any(m.text.startswith(("✓", "✗"))
                                                              for m in tg.bot_messages(chat)))
        while any(not any(m.text.startswith(("✓", "✗")) for m in tg.bot_messages(chat)) for chat in uploads):
            await asyncio.sleep(0.1)
        indexed_s = time.perf_counter() - started
        failed = [chat for chat in uploads if any(m.text.startswith("✗") for m in tg.bot_messages(chat))]
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 60)

    p95_idle, p95_busy = percentile(idle, 95), percentile(busy, 95)
    print(f"{documents} six-page PDFs uploaded at once; {questions} questions at once, before and during indexing")
    print(f"answer latency, no indexing:     p50 {percentile(idle, 50):.2f} s  p95 {p95_idle:.2f} s")
    print(f"answer latency, while indexing:  p50 {percentile(busy, 50):.2f} s  p95 {p95_busy:.2f} s  "
          f"({p95_busy / p95_idle:.2f}x; target <= 1.5x; {still_indexing} documents still indexing at the end)")
    print(f"indexed {documents - len(failed)}/{documents} documents in {indexed_s:.1f} s: "
          f"{(documents - len(failed)) / indexed_s * 60:.1f} documents per minute")
    print(f"429s received: {tg.state.too_many_requests}; refused requests: {len(tg.state.rejected)}")


if __name__ == "__main__":
    run_main(__doc__, run, documents=20, questions=20)
