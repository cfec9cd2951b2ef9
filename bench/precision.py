"""embedder.precision float32 against int8 on real documents nobody here wrote (the public set:
the Bash Reference Manual PDF and the Python tutorial, scripts/fetch-public-docs): time to
searchable with `kbot ingest`, and page-hit on evals/public.jsonl, rounds alternating, each in a
fresh data_dir (the graphs are shared, as data_dir/models would keep them).

    .venv/bin/python bench/precision.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / ".cache" / "public-docs"
KBOT = str(ROOT / ".venv" / "bin" / "kbot")


def cpu() -> str:
    flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[1].split("\n", 1)[0].split()
    wanted = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16") if f in flags]
    name = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), platform.processor())
    return f"{name}; {' '.join(wanted)}"


def one_round(folder: Path, precision: str, models: Path) -> tuple[float, dict[str, float]]:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "state").mkdir(parents=True)
    (folder / "state" / "models").symlink_to(models)
    (folder / "config.yaml").write_text(f"data_dir: state\nknowledge: {{paths: ['{DOCS}']}}\n"
                                        f"embedder: {{precision: {precision}}}\nllm: {{kind: extractive}}\n")
    started = time.perf_counter()
    subprocess.run([KBOT, "ingest"], cwd=folder, check=True, capture_output=True)
    took = time.perf_counter() - started
    report = json.loads(subprocess.run([KBOT, "eval", str(ROOT / "evals" / "public.jsonl"), "--json"], cwd=folder,
                                       capture_output=True, text=True).stdout)
    return took, {"@1": report["page_hit"]["@1"], "@5": report["page_hit"]["@5"],
                  "off-topic": report["off_topic_answers"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (DOCS / "bashref.pdf").exists():
        print("the public documents are missing: run scripts/fetch-public-docs first")
        return 1
    print(f"CPU: {cpu()}")
    work = Path(tempfile.mkdtemp(prefix="kbot-precision-"))
    models = work / "models"
    models.mkdir()
    times: dict[str, list[float]] = {"float32": [], "int8": []}
    quality: dict[str, dict[str, float]] = {}
    ratios = []
    for round_number in range(args.rounds + 1):  # round 0 writes the graphs and warms the caches: not counted
        pair = {}
        for precision in ("float32", "int8"):
            took, quality[precision] = one_round(work / precision, precision, models)
            pair[precision] = took
            if round_number:
                times[precision].append(took)
        if round_number:
            ratios.append(pair["float32"] / pair["int8"])
            print(f"round {round_number}: float32 {pair['float32']:.1f} s, int8 {pair['int8']:.1f} s")
    for precision, values in times.items():
        print(f"{precision:8} to searchable: median {statistics.median(values):.1f} s "
              f"({min(values):.1f}-{max(values):.1f}); public set page-hit@1 {quality[precision]['@1']:.3f}, "
              f"@5 {quality[precision]['@5']:.3f}, off-topic answers {quality[precision]['off-topic']:.0f}")
    print(f"float32 / int8, paired: median {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
