"""One person floods a Telegram group; how fast are everyone else's answers, and what does it cost?

Run: .venv/bin/python bench/flood.py [--flood 200] [--questions 20]
- kbot runs as its own `kbot run` process with the default limits (6 questions a minute per person).
- Printed: answer latency for `--questions` other people (one private chat each) with nobody
  flooding, then while one person sends `--flood` questions to a group as fast as this script can;
  the model calls the flood cost and the notices it got. Target: latency during the flood within
  1.5x of idle, the flood's model calls no more than its per-minute limit.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, run_main, start_kbot, stream_like_a_model, telegram_config  # noqa: E402
from bench.jobs import HANDBOOK, ask_all  # noqa: E402
from tests.fakes import telegram_server  # noqa: E402
from tests.fakes.openai_server import serve_openai  # noqa: E402

GROUP, FLOODER = -100999, 666


async def run(flood: int, questions: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kbot-bench-flood-"))
    with serve_openai() as llm, telegram_server.FakeTelegram() as tg:
        stream_like_a_model(llm)
        config = telegram_config(tmp, llm, tg)  # the default limits: that is what is measured
        bot, _ = await asyncio.to_thread(start_kbot, tmp, config, {"handbook.md": HANDBOOK})
        await ask_all(tg, [9000 + i for i in range(3)])  # warm-up
        idle = await ask_all(tg, [1000 + i for i in range(questions)])
        calls_before = len(llm.chat_requests)

        started = time.perf_counter()
        for i in range(flood):
            tg.user_message(GROUP, f"/ask vacation days, try {i}?", chat_type="supergroup", user_id=FLOODER)
        sent_s = time.perf_counter() - started
        during = await ask_all(tg, [2000 + i for i in range(questions)])
        await asyncio.sleep(3)  # the flood's admitted answers finish
        flood_calls = len(llm.chat_requests) - calls_before - questions
        notices = sum(1 for m in tg.bot_messages(GROUP) if "questions a minute" in m.text)
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 60)

    p95_idle, p95_flood = percentile(idle, 95), percentile(during, 95)
    print(f"{questions} people ask in their own chats; then one person sends {flood} questions to a group "
          f"(sent in {sent_s:.1f} s) while the {questions} ask again")
    print(f"others' answer latency, idle:        p50 {percentile(idle, 50):.2f} s  p95 {p95_idle:.2f} s")
    print(f"others' answer latency, in a flood:  p50 {percentile(during, 50):.2f} s  p95 {p95_flood:.2f} s  "
          f"({p95_flood / p95_idle:.2f}x; target <= 1.5x)")
    print(f"the flood cost {flood_calls} model calls and got {notices} notice(s); 429s received: "
          f"{tg.state.too_many_requests}")


if __name__ == "__main__":
    run_main(__doc__, run, flood=200, questions=20)
