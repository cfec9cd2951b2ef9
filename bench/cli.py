"""Wall time of one `kbot search`, `kbot ask` (extractive) and `kbot status` on a knowledge base of
about 2,500 chunks, each a fresh process as a person runs it, with `embedder.runtime: auto`
(questions embedded in NumPy) against `sentence-transformers` (the torch path), alternating.

Run: .venv/bin/python bench/cli.py [--runs 5] [--before TREE] [--lean-python PYTHON]
Prints each command's median and spread per runtime, and the ratio auto / sentence-transformers.
With --before (a checkout of an older kbot), its `auto` runs alternate with this tree's on the same
store, and the ratio this / before is printed too. With --lean-python (the interpreter of a venv made
by `scripts/setup` without --torch, so torch is not installed at all), this tree's `auto` runs there
too, and the ratio lean / auto is printed.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import make_pdf  # noqa: E402

COMMANDS = {
    "search": ["search", "how many vacation days carry over into next year"],
    "ask": ["ask", "how many vacation days carry over into next year"],
    "status": ["status"],
}
RUNTIMES = ("auto", "sentence-transformers")


def write_config(root: Path, runtime: str) -> Path:
    path = root / f"config-{runtime}.yaml"
    path.write_text(f"data_dir: {root / 'data'}\nknowledge:\n  paths: [{root / 'docs'}]\n"
                    f"embedder:\n  kind: local\n  runtime: {runtime}\nllm:\n  kind: extractive\n")
    return path


def kbot(config: Path, args: list[str], tree: Path = ROOT, python: str = sys.executable) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    subprocess.run([python, "-m", "bot", "--config", str(config), *args], check=True, env=env,
                   cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="an older checkout to compare with (embedder.runtime auto)")
    parser.add_argument("--lean-python", help="an interpreter whose venv has no torch (scripts/setup without --torch)")
    args = parser.parse_args()
    runtimes = (*RUNTIMES, *(["before"] if args.before else []), *(["lean"] if args.lean_python else []))
    # Bytecode up to date in every tree compared: with PYTHONDONTWRITEBYTECODE set (as on some CI
    # images) a fresh checkout would compile its modules from source on every run and look slower.
    for tree in (ROOT, args.before) if args.before else (ROOT,):
        compileall.compile_dir(str(Path(tree) / "bot"), quiet=1)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        for number in range(8):  # 8 x 100 pages of 400 words: about 2,500 chunks
            make_pdf(root / "docs" / f"manual-{number}.pdf", pages=100, words_per_page=400, rng=rng)
        configs = {runtime: write_config(root, runtime) for runtime in RUNTIMES}
        print(f"indexing (once): {kbot(configs['sentence-transformers'], ['ingest']):.1f} s", flush=True)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for command, command_args in COMMANDS.items():
                for runtime in runtimes:
                    if runtime == "before":
                        seconds = kbot(configs["auto"], command_args, args.before.resolve())
                    elif runtime == "lean":
                        seconds = kbot(configs["auto"], command_args, python=args.lean_python)
                    else:
                        seconds = kbot(configs[runtime], command_args)
                    times.setdefault((command, runtime), []).append(seconds)
        print(f"bench/cli.py — {args.runs} runs each, wall seconds per command (median, min-max)")
        for command in COMMANDS:
            cells = []
            for runtime in runtimes:
                samples = times[(command, runtime)]
                cells.append(f"{runtime} {statistics.median(samples):.2f} ({min(samples):.2f}-{max(samples):.2f})")
            ratio = statistics.median(times[(command, "auto")]) / statistics.median(
                times[(command, "sentence-transformers")])
            line = f"  kbot {command:6} " + "   ".join(cells) + f"   ratio {ratio:.2f}"
            if args.before:
                now, then = (statistics.median(times[(command, key)]) for key in ("auto", "before"))
                line += f"   this/before {now / then:.2f}"
            if args.lean_python:
                lean, auto = (statistics.median(times[(command, key)]) for key in ("lean", "auto"))
                line += f"   lean/auto {lean / auto:.2f}"
            print(line)


if __name__ == "__main__":
    main()
