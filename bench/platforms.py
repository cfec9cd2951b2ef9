"""100 concurrent questions over the Slack, Discord and Telegram fakes, answered by one `kbot run` loop.

Run: .venv/bin/python bench/platforms.py [--questions 100] [--tokens 100]
- The fake LLM streams `--tokens` tokens at 50 tokens/s, so its own time per answer is tokens/50 s.
- Questions are spread over the platforms, one channel or chat each (Slack: channels of one
  workspace; Discord: channels of one guild; Telegram: half private chats, half groups). Several
  questions in one channel share that channel's pacing (about 1 write/s on Discord and Telegram).
- Printed: time from question to final answer against the LLM's own time, API calls per answer,
  how long after the model's last token the final answer is visible (target p95 <= 150 ms where the
  platform's rate limit has room: Slack, Discord, Telegram private chats; polled every 10 ms),
  429s received (target 0), event-loop lag p99 (target <= 50 ms), peak RSS.
kbot runs as its own `kbot run` process (the fakes live in this one); the store is keyword-only.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_LIMITS,
    free_port,
    histogram_quantile,
    percentile,
    process_cpu_s,
    process_peak_rss_mb,
    run_main,
    start_kbot,
)
from tests.fakes import discord_server, slack_server, telegram_server  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, serve_openai  # noqa: E402

HANDBOOK = ("# Time off\n\n## Vacation\n\nEvery employee gets 25 vacation days a year. Part-time staff get "
            "vacation days in proportion to their hours.\n")
GUILD = "800000000000000001"
QUESTION_NUMBER = re.compile(r"vacation days do we get\? \((\d+)\)")


def _calls(slack: slack_server.FakeSlack, discord: discord_server.FakeDiscord,
           tg: telegram_server.FakeTelegram) -> dict[str, int]:
    slack_writes = {"chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream", "chat.stopStream"}
    tg_writes = {"sendMessage", "editMessageText", "sendMessageDraft"}
    return {
        "slack": sum(1 for method, _ in slack.state.calls if method in slack_writes),
        "discord": sum(1 for method, path in discord.state.calls
                       if method in ("POST", "PATCH") and path.startswith("channels/") and "/messages" in path),
        "telegram": sum(1 for method, _ in tg.state.calls if method in tg_writes),
    }


def _last_tokens(llm: FakeOpenAI) -> dict[str, float]:
    """When the model sent each question's last token, by the question's number in its text."""
    sent: dict[str, float] = {}
    for body, at in llm.chat_done_at:
        asked = [m.get("content") for m in body.get("messages", []) if m.get("role") == "user"]
        match = QUESTION_NUMBER.search(str(asked[-1]) if asked else "")
        if match:
            sent[f"s{match.group(1)}"] = at
    return sent


def py_spy() -> str | None:
    """py-spy's path when KBOT_BENCH_PROFILE asks for a profile (from PATH or beside this Python)."""
    if not os.environ.get("KBOT_BENCH_PROFILE"):
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("KBOT_BENCH_PROFILE needs py-spy: pip install -e '.[bench]'")
    return spy


async def run(questions: int, tokens: int) -> None:
    spy = py_spy()
    tmp = Path(tempfile.mkdtemp(prefix="kbot-bench-platforms-"))
    with serve_openai() as llm, slack_server.FakeSlack() as slack, discord_server.FakeDiscord() as discord, \
            telegram_server.FakeTelegram() as tg:
        llm.reply_tokens = ["Every employee gets 25 vacation days a year [1]."] + [f" w{i}" for i in range(tokens - 1)]
        llm.token_delay_s = 1 / 50
        channels = [f"81000000000000{i:04d}" for i in range(questions)]  # one channel per question
        discord.add_guild(GUILD, dict.fromkeys(channels, False))
        config = {
            "data_dir": str(tmp / "data"), "embedder": {"kind": "none"},
            "llm": {"kind": "openai", "base_url": llm.base_url, "api_key": "bench", "model": "fake",
                    "timeout_s": 120},
            "server": {"port": free_port()},
            "slack": {"enabled": True, "bot_token": slack_server.BOT_TOKEN, "app_token": slack_server.APP_TOKEN,
                      "base_url": slack.api_base, "access": "open"},
            "discord": {"enabled": True, "token": discord_server.TOKEN, "base_url": discord.api_base,
                        "access": "open"},
            "telegram": {"enabled": True, "token": telegram_server.TOKEN, "base_url": tg.api_base,
                         "base_file_url": tg.file_base, "access": "open"},
            "limits": BENCH_LIMITS,  # counted, never refused
        }
        bot, base = await asyncio.to_thread(start_kbot, tmp, config, {"handbook.md": HANDBOOK})
        print(f"kbot log: {tmp / 'kbot.log'}")

        if spy is not None:  # py-spy on kbot while the questions are answered
            # --nonblocking: a sampler that stops the process would be the loop lag it measures
            subprocess.Popen([spy, "record", "-p", str(bot.pid), "-d", "8", "-f", "raw", "--nonblocking",
                              "--threads", "-o", os.environ["KBOT_BENCH_PROFILE"]],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1)
        cpu_before, bench_cpu_before = process_cpu_s(bot.pid), time.process_time()
        asked: dict[str, float] = {}
        done: dict[str, float] = {}
        checks = {}
        started = time.perf_counter()
        private: set[str] = set()
        for i in range(questions):
            question = f"How many vacation days do we get? ({i})"
            platform = ("slack", "discord", "telegram")[i % 3]
            if platform == "slack":
                envelope = slack.mention(f"C{i}", question)
                channel, ts = envelope["event"]["channel"], envelope["event"]["ts"]
                await asyncio.to_thread(slack.deliver, envelope)
                checks[f"s{i}"] = lambda c=channel, t=ts: any(
                    m.stream_closed or any(b.get("type") == "actions" for b in m.blocks)
                    for m in slack.thread_replies(c, t))
            elif platform == "discord":
                data = await asyncio.to_thread(discord.user_message, channels[i], question, mention_bot=True)
                checks[f"s{i}"] = lambda c=channels[i], q=data["id"]: any(
                    m.components and m.reference == q for m in discord.bot_messages(c))
            else:
                chat = 5000 + i if i % 2 else -100 - i  # half private chats, half groups
                if chat > 0:
                    private.add(f"s{i}")
                update = tg.user_message(chat, f"/ask {question}", chat_type="private" if chat > 0 else "supergroup")
                checks[f"s{i}"] = lambda c=chat, q=update["message"]["message_id"]: any(
                    m.reply_markup and m.reply_to == q for m in tg.bot_messages(c))
            asked[f"s{i}"] = time.monotonic()
        deadline = time.monotonic() + 300
        while len(done) < questions and time.monotonic() < deadline:
            for key, check in checks.items():
                if key not in done and check():
                    done[key] = time.monotonic()
            await asyncio.sleep(0.01)
        total = time.perf_counter() - started
        last_token = _last_tokens(llm)
        kbot_cpu, bench_cpu = process_cpu_s(bot.pid) - cpu_before, time.process_time() - bench_cpu_before
        calls = _calls(slack, discord, tg)
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:  # noqa: S310
            metrics = response.read().decode()
        rss = process_peak_rss_mb(bot.pid)
        bot.send_signal(signal.SIGTERM)
        exit_code = bot.wait(60)

    llm_time = tokens / 50
    latencies = [done[k] - asked[k] for k in done]
    per_platform = {p: sum(1 for i in range(questions) if ("slack", "discord", "telegram")[i % 3] == p)
                    for p in ("slack", "discord", "telegram")}
    print(f"{questions} questions, {tokens}-token answers at 50 tokens/s (LLM's own time {llm_time:.1f} s each)")
    print(f"answered: {len(done)}/{questions} in {total:.1f} s overall")
    print(f"question -> final answer: p50 {percentile(latencies, 50):.2f} s  p95 {percentile(latencies, 95):.2f} s  "
          f"max {max(latencies):.2f} s  (p50 {percentile(latencies, 50) / llm_time:.2f}x the LLM's time)")
    for platform, count in calls.items():
        mine = [done[k] - asked[k] for k in done if ("slack", "discord", "telegram")[int(k[1:]) % 3] == platform]
        print(f"  {platform:9s} {per_platform[platform]:3d} answers, {count / max(per_platform[platform], 1):5.1f} "
              f"write calls per answer, p50 {percentile(mine, 50):.2f} s  p95 {percentile(mine, 95):.2f} s")
    lags = {key: done[key] - last_token[key] for key in done if key in last_token}
    places = {"slack": "slack", "discord": "discord", "telegram": "telegram group"}
    groups: dict[str, list[float]] = {}
    for key, seconds in lags.items():
        place = places[("slack", "discord", "telegram")[int(key[1:]) % 3]]
        groups.setdefault("telegram private" if key in private else place, []).append(seconds * 1000)
    print("model's last token -> final answer visible (ms):")
    for place in ("slack", "discord", "telegram private", "telegram group"):
        mine = groups.get(place, [])
        if mine:
            print(f"  {place:17s} p50 {percentile(mine, 50):6.0f}  p95 {percentile(mine, 95):6.0f}  "
                  f"max {max(mine):6.0f}  ({len(mine)} answers)")
    print(f"429s received: slack {slack.state.too_many_requests}, discord {discord.state.too_many_requests}, "
          f"telegram {tg.state.too_many_requests}; refused requests: "
          f"{len(slack.state.rejected) + len(discord.state.rejected) + len(tg.state.rejected)}")
    lag = "kbot_event_loop_lag_seconds"
    print(f"kbot's event-loop lag (from its /metrics histogram, bucket upper bounds): "
          f"p50 <= {histogram_quantile(metrics, lag, 0.5) * 1000:.0f} ms, "
          f"p99 <= {histogram_quantile(metrics, lag, 0.99) * 1000:.0f} ms")
    print(f"CPU while answering ({total:.1f} s, 2 cores here): kbot {kbot_cpu:.1f} s, "
          f"the fakes and this script {bench_cpu:.1f} s")
    print(f"kbot process peak RSS {rss:.0f} MB; exit code after SIGTERM {exit_code}")


if __name__ == "__main__":
    run_main(__doc__, run, questions=100, tokens=100)
