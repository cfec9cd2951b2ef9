"""`kbot eval`: how well the knowledge base answers a set of questions whose right passage is known.

A case is one JSON line: `{"q", "source", "pages"?, "answer"?}` (the passage that answers it) or
`{"q", "expect": "nothing"}` (a question the knowledge base must refuse). Retrieval and the relevance
gate are measured exactly as an answer runs them; no model is asked, so a whole set runs offline.
"""

from __future__ import annotations

import json
import statistics
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from bot.rag.relevance import is_relevant

if TYPE_CHECKING:
    from haystack.dataclasses import Document

KS = (1, 3, 5)
_KNOWN_KEYS = {"q", "source", "pages", "answer", "expect", "note"}


class EvalSetError(ValueError):
    """A question file kbot cannot use; the message names the file and line."""


@dataclass(frozen=True)
class EvalCase:
    line: int
    question: str
    source: str | None = None  # None: the knowledge base must refuse the question
    pages: tuple[int, ...] = ()
    answer: str | None = None

    @property
    def expects_nothing(self) -> bool:
        return self.source is None


@dataclass(frozen=True)
class Hit:
    """One retrieved passage, as a miss report shows it."""

    source: str
    pages: str | None
    heading: str | None
    text: str


@dataclass
class CaseResult:
    case: EvalCase
    doc_rank: int | None  # 1-based rank of the first passage from the right document
    page_rank: int | None  # ... from the right document, page and with the answer text
    refused: bool
    best_similarity: float
    retrieval_s: float
    top: list[Hit] = field(default_factory=list)
    agreed: bool = False  # admitted below min_similarity because the keyword and vector rankings agree


@dataclass
class Report:
    cases: int
    answerable: int
    off_topic_cases: int
    doc_hit: dict[int, float]
    page_hit: dict[int, float]
    mrr: float  # by page (the passage that answers)
    doc_mrr: float
    false_refusals: int
    off_topic_answers: int
    agreed: int  # questions admitted below min_similarity by keyword agreement (answerable or not)
    retrieval_p50_ms: float
    retrieval_p95_ms: float
    results: list[CaseResult]

    @property
    def misses(self) -> list[CaseResult]:
        """Answerable cases whose passage was not first, refused ones, and off-topic ones answered."""
        return [r for r in self.results
                if (r.case.expects_nothing and not r.refused)
                or (not r.case.expects_nothing and (r.page_rank != 1 or r.refused))]

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "answerable": self.answerable, "off_topic_cases": self.off_topic_cases,
            "doc_hit": {f"@{k}": round(v, 4) for k, v in self.doc_hit.items()},
            "page_hit": {f"@{k}": round(v, 4) for k, v in self.page_hit.items()},
            "mrr": round(self.mrr, 4), "doc_mrr": round(self.doc_mrr, 4),
            "false_refusals": self.false_refusals, "off_topic_answers": self.off_topic_answers,
            "keyword_agreement_admitted": self.agreed,
            "retrieval_ms": {"p50": round(self.retrieval_p50_ms, 2), "p95": round(self.retrieval_p95_ms, 2)},
            "misses": [_miss_json(r) for r in self.misses],
        }


def _miss_json(result: CaseResult) -> dict[str, Any]:
    case = result.case
    return {"line": case.line, "q": case.question, "expected": case.source or "nothing",
            "pages": list(case.pages) or None, "doc_rank": result.doc_rank, "page_rank": result.page_rank,
            "refused": result.refused, "best_similarity": round(result.best_similarity, 4),
            "keyword_agreement": result.agreed,
            "first": [asdict(hit) for hit in result.top[:3]]}


def load_cases(path: Path) -> list[EvalCase]:
    """Every case of a JSON-lines file; blank lines and `#` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalSetError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    cases = [_case(path, number, line) for number, line in enumerate(lines, 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not cases:
        raise EvalSetError(f"{path}: no questions in it (one JSON object per line)")
    return cases


def _case(path: Path, number: int, line: str) -> EvalCase:
    where = f"{path}:{number}"
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalSetError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise EvalSetError(f"{where}: each line must be a JSON object")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise EvalSetError(f"{where}: unknown key {unknown[0]!r} (keys: q, source, pages, answer, expect)")
    question = raw.get("q")
    if not isinstance(question, str) or not question.strip():
        raise EvalSetError(f"{where}: \"q\" must be the question, a non-empty string")
    if "expect" in raw:
        if raw["expect"] != "nothing" or "source" in raw:
            raise EvalSetError(f"{where}: \"expect\" can only be \"nothing\", on a line without \"source\"")
        return EvalCase(number, question.strip())
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise EvalSetError(f"{where}: \"source\" (the file or URL that answers it) or \"expect\": \"nothing\" "
                           "is required")
    pages = raw.get("pages", [])
    if not isinstance(pages, list) or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0
                                              for p in pages):
        raise EvalSetError(f"{where}: \"pages\" must be a list of page numbers, e.g. [12, 13]")
    answer = raw.get("answer")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise EvalSetError(f"{where}: \"answer\" must be a non-empty string")
    return EvalCase(number, question.strip(), source.strip(), tuple(pages), answer)


def source_matches(expected: str, source: str) -> bool:
    """The whole source, a trailing path of it, or its basename (a URL's last path segment)."""
    expected, source = expected.rstrip("/"), source.rstrip("/")
    if expected == source or source.endswith("/" + expected):
        return True
    return PurePosixPath(expected).name == PurePosixPath(source.split("?")[0]).name


def page_span(meta: dict[str, Any]) -> tuple[int, int] | None:
    page = meta.get("page")
    if not isinstance(page, int):
        return None
    end = meta.get("page_end")
    return page, end if isinstance(end, int) and end >= page else page


def _normalized(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def passage_answers(case: EvalCase, document: Document) -> bool:
    """From the right document, spanning one of the pages (when given), containing the answer (when given)."""
    meta = document.meta
    if case.source is None or not source_matches(case.source, str(meta.get("source", ""))):
        return False
    if case.pages:
        span = page_span(meta)
        if span is None or not any(span[0] <= p <= span[1] for p in case.pages):
            return False
    return case.answer is None or _normalized(case.answer) in _normalized(document.content or "")


def _hit(document: Document) -> Hit:
    span = page_span(document.meta)
    pages = None if span is None else (str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}")
    text = " ".join((document.content or "").split())
    return Hit(str(document.meta.get("source")), pages, document.meta.get("heading"),
               text if len(text) <= 160 else text[:159] + "…")


# (documents, best similarity, whether the keyword and vector rankings agree)
Retrieve = Callable[[str], "tuple[list[Document], float, bool]"]


def run_case(case: EvalCase, retrieve: Retrieve, min_similarity: float, keyword_agreement: bool = True) -> CaseResult:
    started = time.perf_counter()
    documents, best, agreement = retrieve(case.question)
    elapsed = time.perf_counter() - started
    refused = not is_relevant(bool(documents), best, agreement, min_similarity, keyword_agreement)
    agreed = not refused and best < min_similarity
    doc_rank = page_rank = None
    if case.source is not None:
        for rank, document in enumerate(documents, 1):
            if doc_rank is None and source_matches(case.source, str(document.meta.get("source", ""))):
                doc_rank = rank
            if passage_answers(case, document):
                page_rank = rank
                break
    return CaseResult(case, doc_rank, page_rank, refused, best, elapsed, [_hit(d) for d in documents[:5]], agreed)


def evaluate(cases: list[EvalCase], retrieve: Retrieve, min_similarity: float,
             on_case: Callable[[CaseResult], None] | None = None, keyword_agreement: bool = True) -> Report:
    results = []
    for case in cases:
        result = run_case(case, retrieve, min_similarity, keyword_agreement)
        results.append(result)
        if on_case is not None:
            on_case(result)
    return summarize(results)


def _rate(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def _mrr(ranks: list[int | None]) -> float:
    return sum(1 / r for r in ranks if r is not None) / len(ranks) if ranks else 0.0


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def summarize(results: list[CaseResult]) -> Report:
    answerable = [r for r in results if not r.case.expects_nothing]
    off_topic = [r for r in results if r.case.expects_nothing]
    doc_ranks = [r.doc_rank for r in answerable]
    page_ranks = [r.page_rank for r in answerable]
    times = [r.retrieval_s * 1000 for r in results]
    return Report(
        cases=len(results), answerable=len(answerable), off_topic_cases=len(off_topic),
        doc_hit={k: _rate(doc_ranks, k) for k in KS}, page_hit={k: _rate(page_ranks, k) for k in KS},
        mrr=_mrr(page_ranks), doc_mrr=_mrr(doc_ranks),
        false_refusals=sum(1 for r in answerable if r.refused),
        off_topic_answers=sum(1 for r in off_topic if not r.refused), agreed=sum(1 for r in results if r.agreed),
        retrieval_p50_ms=_percentile(times, 0.5), retrieval_p95_ms=_percentile(times, 0.95), results=results,
    )


@dataclass(frozen=True)
class Thresholds:
    """Flags of `kbot eval`: a report below any of them fails (exit code 1)."""

    min_page_hit1: float | None = None
    min_page_hit5: float | None = None
    min_doc_hit5: float | None = None
    min_mrr: float | None = None
    max_false_refusals: int | None = None
    max_off_topic: int | None = None

    def failures(self, report: Report) -> list[str]:
        checks = [
            ("page-hit@1", report.page_hit[1], self.min_page_hit1, True),
            ("page-hit@5", report.page_hit[5], self.min_page_hit5, True),
            ("doc-hit@5", report.doc_hit[5], self.min_doc_hit5, True),
            ("MRR", report.mrr, self.min_mrr, True),
            ("false refusals", report.false_refusals, self.max_false_refusals, False),
            ("off-topic answers", report.off_topic_answers, self.max_off_topic, False),
        ]
        failed = []
        for name, value, limit, at_least in checks:
            if limit is None:
                continue
            if at_least and value < limit:
                failed.append(f"{name} {value:.3f} is below the minimum {limit:g}")
            elif not at_least and value > limit:
                failed.append(f"{name} {value} is above the maximum {limit}")
        return failed


def render(report: Report, misses: int = 20) -> str:
    """The report as people read it: rates, then each miss with what came first instead."""
    lines = [
        f"{report.cases} questions: {report.answerable} answerable, {report.off_topic_cases} off-topic",
        "           @1     @3     @5",
        "document " + "".join(f"{report.doc_hit[k]:7.3f}" for k in KS),
        "page     " + "".join(f"{report.page_hit[k]:7.3f}" for k in KS),
        f"MRR {report.mrr:.3f} (by page; by document {report.doc_mrr:.3f})",
        f"false refusals {report.false_refusals}/{report.answerable}, "
        f"off-topic answers {report.off_topic_answers}/{report.off_topic_cases}",
        f"retrieval p50 {report.retrieval_p50_ms:.1f} ms, p95 {report.retrieval_p95_ms:.1f} ms",
    ]
    if report.agreed:
        lines.insert(-1, f"{report.agreed} question(s) answered below min_similarity: the keyword and vector "
                         "rankings agreed (answer.keyword_agreement)")
    shown = report.misses[:misses]
    if shown:
        lines.append("")
        lines.append(f"misses ({len(report.misses)}):")
    for result in shown:
        case = result.case
        if case.expects_nothing:
            why = f"answered, best similarity {result.best_similarity:.3f}" + (
                " (the keyword and vector rankings agreed)" if result.agreed else "")
            expected = "nothing"
        else:
            where = "not in the top 5" if result.page_rank is None else f"rank {result.page_rank}"
            why = where + (f", refused (best similarity {result.best_similarity:.3f})" if result.refused else "")
            expected = str(case.source) + (f" p.{','.join(map(str, case.pages))}" if case.pages else "")
        lines.append(f"  line {case.line}: {case.question}")
        lines.append(f"    expected {expected}: {why}")
        for hit in result.top[:2]:
            where = hit.source + (f" p.{hit.pages}" if hit.pages else "") + (f" — {hit.heading}" if hit.heading else "")
            lines.append(f"    came first: {where}: {hit.text[:100]}")
    if len(report.misses) > len(shown):
        lines.append(f"  … {len(report.misses) - len(shown)} more (--json lists every one)")
    return "\n".join(lines)

