"""`kbot eval QUESTIONS.jsonl`: the evaluation report, and an exit code a team's CI can gate on.

Exit codes: 0 every threshold met, 1 a threshold missed, 2 a config or question-file error.
"""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.errors import positive_int
from bot.config import Settings
from bot.insights.evaluation import (
    CaseResult,
    EvalCase,
    EvalSetError,
    Retrieve,
    Thresholds,
    evaluate,
    load_cases,
    render,
)
from bot.rag.pipeline.presets import PRESETS, preset

EXIT_OK, EXIT_BELOW, EXIT_INPUT = 0, 1, 2


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1, e.g. 0.95")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("0 or more")
    return value


def add_parsers(commands: Any) -> None:
    ev = commands.add_parser(
        "eval", help="measure retrieval on questions whose answer is known (hit@k, MRR, refusals)",
        description="Each line of QUESTIONS.jsonl is {\"q\": ..., \"source\": FILE-OR-URL, \"pages\": [N, ...], "
                    "\"answer\": \"text the passage contains\"} (pages and answer optional) or "
                    "{\"q\": ..., \"expect\": \"nothing\"} for a question that must be refused.",
        epilog="Exit codes: 0 all thresholds met, 1 a threshold missed, 2 a bad question file or config.")
    ev.add_argument("questions", type=Path, metavar="QUESTIONS.jsonl")
    ev.add_argument("--scope", action="append", dest="scopes", metavar="S",
                    help="scope to search, repeatable (default: global)")
    ev.add_argument("--top-k", type=positive_int, default=None, metavar="N",
                    help="passages retrieved per question (default: the larger of 5 and retrieval.top_k)")
    ev.add_argument("--preset", choices=list(PRESETS), default=None,
                    help="retrieval preset to measure (default: retrieval.preset)")
    ev.add_argument("--mode", choices=["hybrid", "keyword", "vector"], default=None,
                    help="retrieval mode to measure (default: the preset's, else retrieval.mode)")
    ev.add_argument("--json", action="store_true", help="print one JSON object (every miss included)")
    limits = ev.add_argument_group("thresholds (exit code 1 when missed)")
    limits.add_argument("--min-page-hit1", type=_share, metavar="X", help="page-hit@1 at least X")
    limits.add_argument("--min-page-hit5", type=_share, metavar="X", help="page-hit@5 at least X")
    limits.add_argument("--min-doc-hit5", type=_share, metavar="X", help="doc-hit@5 at least X")
    limits.add_argument("--min-mrr", type=_share, metavar="X", help="mean reciprocal rank (by page) at least X")
    limits.add_argument("--max-false-refusals", type=_count, metavar="N",
                        help="answerable questions refused as 'nothing relevant', at most N")
    limits.add_argument("--max-off-topic", type=_count, metavar="N",
                        help="off-topic questions answered anyway, at most N")
    ev.set_defaults(run=cmd_eval)


def eval_retriever(settings: Settings, scopes: list[str], top_k: int, preset_name: str,
                   mode: str | None = None) -> tuple[Retrieve, Any]:
    """Retrieval as the answer flow runs it: the preset's mode and lists, the reranker when configured."""
    from bot.app import App

    app = App(settings)
    kb = app.knowledge_base
    kb.check_embedder()
    reranker = next((c for name, c in app.answer_pipeline.walk() if name == "reranker"), None)
    chosen = preset(preset_name, top_k, reranker is not None)
    retrieve_k = max(top_k, chosen.retrieve)

    def retrieve(question: str) -> tuple[list[Any], float, bool]:
        found = kb.retrieve(question, scopes, retrieve_k, mode or chosen.mode, chosen.candidates)
        documents = found.documents
        if reranker is not None and chosen.rerank:
            documents = reranker.run(query=question, documents=documents)["documents"]
        return documents[:top_k], found.best_similarity, found.agreement

    return retrieve, app


class _Bar:
    """tqdm on a terminal; a line every tenth of the set otherwise (CI logs)."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.bar = total, 0, None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="q", file=sys.stderr, dynamic_ncols=True, leave=False)

    def step(self, result: CaseResult) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.total >= 20 and self.done % max(1, self.total // 10) == 0:
            print(f"[{self.done}/{self.total}] questions", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    try:
        cases: list[EvalCase] = load_cases(args.questions)
    except EvalSetError as exc:
        print(f"kbot: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if args.top_k is not None and args.top_k < 1:
        print("kbot: --top-k must be 1 or more", file=sys.stderr)
        return EXIT_INPUT
    top_k = args.top_k or max(5, settings.retrieval.top_k)
    thresholds = Thresholds(args.min_page_hit1, args.min_page_hit5, args.min_doc_hit5, args.min_mrr,
                            args.max_false_refusals, args.max_off_topic)
    retrieve, app = eval_retriever(settings, args.scopes or ["global"], top_k,
                                   args.preset or settings.retrieval.preset, args.mode)
    if args.mode in ("vector", "hybrid") and app.knowledge_base.embedder is None:
        print(f"kbot: --mode {args.mode} needs an embedder; embedder.kind is none", file=sys.stderr)
        return EXIT_INPUT
    bar = _Bar(len(cases))
    try:
        report = evaluate(cases, retrieve, settings.answer.min_similarity, bar.step,
                          settings.answer.keyword_agreement)
    finally:
        bar.close()
    failures = thresholds.failures(report)
    if args.json:
        print(json.dumps({**report.to_json(), "min_similarity": settings.answer.min_similarity,
                          "keyword_agreement": settings.answer.keyword_agreement,
                          "top_k": top_k, "mode": args.mode or settings.retrieval.mode, "failed": failures},
                         ensure_ascii=False, indent=2))
    else:
        print(render(report))
        if app.knowledge_base.count_chunks() == 0:
            print("\nthe knowledge base is empty: run `kbot ingest` first", file=sys.stderr)
    for failure in failures:
        print(f"kbot eval: {failure}", file=sys.stderr)
    return EXIT_BELOW if failures else EXIT_OK
