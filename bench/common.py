"""Small helpers shared by the benchmarks: percentiles, peak memory, sample text."""

from __future__ import annotations

import itertools
import random
import resource
import statistics
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

WORDS = " ".join(
    [
        "policy vacation expense travel laptop security incident onboarding payroll office network backup",
        "deploy release review budget customer contract invoice meeting schedule holiday benefit insurance",
        "training password account access manager report team project roadmap quarter goal metric dashboard",
        "alert database server cluster storage latency throughput queue worker cache index search ranking",
        "model",
    ]
).split()


# A benchmark asks everything as one person: rates high enough never to refuse it, but still counted
# (the database work every question does in a real deployment is part of what is measured).
BENCH_LIMITS = {"questions_per_person_per_minute": 1_000_000, "questions_per_person_per_hour": 1_000_000,
                "questions_per_channel_per_minute": 1_000_000}


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"p50 {percentile(ms, 50):7.2f} ms  p95 {percentile(ms, 95):7.2f} ms  mean {statistics.mean(ms):7.2f} ms"


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its (waited-for) children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


# A Zipf-distributed vocabulary of 20k terms, as real text has: a few words everywhere, most words rare.
# (With only the 51 words above, every query term is in nearly every chunk and BM25 must score them all.)
VOCABULARY = WORDS + [f"term{i}" for i in range(20_000)]
ZIPF_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(VOCABULARY))))


def zipf_words(rng: random.Random, count: int) -> list[str]:
    return rng.choices(VOCABULARY, cum_weights=ZIPF_WEIGHTS, k=count)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(zipf_words(rng, words)) + "."


def english_sentences() -> list[str]:
    """Real sentences from the sample handbook: text that tokenizes like the documents teams upload."""
    root = Path(__file__).resolve().parent.parent / "knowledge"
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.suffix in {".md", ".txt"})
    words = " ".join(line for line in text.splitlines() if line.strip() and not line.startswith("#")).split()
    sentences, current = [], []
    for word in words:
        current.append(word.strip("*`"))
        if word.endswith("."):
            sentences.append(" ".join(current))
            current = []
    return [s for s in sentences if len(s.split()) >= 5]


# -- a `kbot run` process for the chat benchmarks ----------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a running process (Linux /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def histogram_quantile(metrics: str, name: str, q: float) -> float:
    """The upper bound of the bucket holding quantile q of a Prometheus histogram."""
    buckets = []
    for line in metrics.splitlines():
        if line.startswith(f"{name}_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1])))
    total = buckets[-1][1] if buckets else 0
    for bound, cumulative in buckets:
        if total and cumulative >= q * total:
            return bound
    return float("nan")


def start_kbot(folder: Path, config: dict, docs: dict[str, str]) -> tuple[object, str]:
    """Write config and docs, `kbot ingest`, start `kbot run`, wait for /readyz; returns (process, base URL)."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    (folder / "docs").mkdir(exist_ok=True)
    for name, text in docs.items():
        (folder / "docs" / name).write_text(text)
    (folder / "config.yaml").write_text(json.dumps({"knowledge": {"paths": ["docs"]}, **config}))  # JSON is YAML
    kbot = [sys.executable, "-m", "bot", "--config", str(folder / "config.yaml")]
    subprocess.run([*kbot, "ingest"], check=True, capture_output=True)
    log = (folder / "kbot.log").open("w")
    process = subprocess.Popen([*kbot, "run"], stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{config['server']['port']}"
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310 (local)
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"kbot run did not become ready; see {folder / 'kbot.log'}")


def run_main(doc: str | None, run: Callable[..., Awaitable[None]], **defaults: int) -> None:
    """A benchmark's command line: `--name N` for each default (dashes for underscores), then `run`."""
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    for name, value in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value)
    asyncio.run(run(**vars(parser.parse_args())))


def stream_like_a_model(llm: Any, tokens: int = 60) -> None:
    """The fake model answers the handbook question in `tokens` tokens at 50 tokens/s."""
    llm.reply_tokens = ["Every employee gets 25 vacation days a year [1]."] + [f" w{i}" for i in range(tokens - 1)]
    llm.token_delay_s = 1 / 50


def telegram_config(folder: Path, llm: Any, tg: Any, **overrides: Any) -> dict:
    """`kbot run` on the Telegram fake with the fake model, open to every chat (a benchmark's users)."""
    from tests.fakes.telegram_server import TOKEN

    return {
        "data_dir": str(folder / "data"),
        "llm": {"kind": "openai", "base_url": llm.base_url, "api_key": "bench", "model": "fake"},
        "server": {"port": free_port()},
        "telegram": {"enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base,
                     "access": "open"},
        **overrides,
    }


def fetched_document(script: str, name: str) -> Path | None:
    """A public document fetched from Debian by scripts/SCRIPT (which prints a folder or the file's
    path); None when this machine cannot fetch it."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([str(root / "scripts" / script)], capture_output=True, text=True, check=False).stdout
    printed = out.strip().splitlines()[-1] if out.strip() else ""
    if not printed:
        return None
    path = Path(printed) if printed.endswith(".pdf") else Path(printed) / name
    path = path if path.is_absolute() else root / path
    return path if path.is_file() else None
