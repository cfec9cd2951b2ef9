"""How often kbot's extractive answer (no LLM) quotes the sentence that answers: for every question of
the shipped eval sets that names its `answer` text, whether the answer `kbot ask` would compose
contains it. Retrieval and the relevance gate run as in `kbot eval`; a refused question counts as a
miss. The sets: evals/knowledge.jsonl and evals/handbook-hard.jsonl on knowledge/, and
evals/public.jsonl on the Bash manual and the Python tutorial when scripts/fetch-public-docs can
fetch them.

Run: .venv/bin/python bench/extractive.py [--misses]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.cli.evaluate import eval_retriever  # noqa: E402
from bot.insights.evaluation import load_cases  # noqa: E402
from bot.rag.extractive import extractive_answer  # noqa: E402
from bot.rag.pipeline.prompt_builder import to_sources  # noqa: E402
from bot.rag.relevance import is_relevant  # noqa: E402
from bot.wiring import load_settings  # noqa: E402


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def measure(folder: Path, documents: list[Path], sets: list[Path], show_misses: bool) -> tuple[int, int]:
    """(questions whose extractive answer holds the expected text, questions with an expected text)."""
    (folder / "config.yaml").write_text("data_dir: state\nknowledge:\n  paths: [" +
                                        ", ".join(str(d) for d in documents) + "]\n")
    subprocess.run([sys.executable, "-m", "bot", "ingest"], cwd=folder, check=True, capture_output=True)
    previous = Path.cwd()
    os.chdir(folder)
    try:
        settings = load_settings(None)
        retrieve, _ = eval_retriever(settings, ["global"], 5, settings.retrieval.preset)
        hits = total = 0
        for path in sets:
            for case in load_cases(path):
                if case.answer is None:
                    continue
                found, best, agreement = retrieve(case.question)
                answered = is_relevant(bool(found), best, agreement, settings.answer.min_similarity,
                                       settings.answer.keyword_agreement)
                text = extractive_answer(case.question, to_sources(found)) if answered else ""
                hit = _normal(case.answer) in _normal(text)
                hits, total = hits + hit, total + 1
                if show_misses and not hit:
                    print(f"  miss: {case.question!r} (wants {case.answer!r})")
        return hits, total
    finally:
        os.chdir(previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print each question whose answer misses")
    args = parser.parse_args()
    runs = [("knowledge/", [ROOT / "knowledge"], [ROOT / "evals" / "knowledge.jsonl",
                                                  ROOT / "evals" / "handbook-hard.jsonl"])]
    fetched = subprocess.run([str(ROOT / "scripts" / "fetch-public-docs")], capture_output=True, text=True,
                             check=False).stdout.strip()
    if fetched:
        folder = Path(fetched) if Path(fetched).is_absolute() else ROOT / fetched
        runs.append(("public docs", [folder], [ROOT / "evals" / "public.jsonl"]))
    else:
        print("public docs: scripts/fetch-public-docs could not fetch them here; measuring knowledge/ only")
    print("bench/extractive.py — extractive answers that quote the expected text")
    for name, documents, sets in runs:
        with tempfile.TemporaryDirectory() as tmp:
            hits, total = measure(Path(tmp), documents, sets, args.misses)
        print(f"{name:12} {hits}/{total} ({hits / total:.0%})")


if __name__ == "__main__":
    main()
