"""`kbot eval`: the report, its JSON, thresholds and exit codes, and the shipped knowledge/ set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.support.paths import REPO
from tests.support.samples import make_pdf

ROOT = REPO


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "billing.md").write_text("# Billing\n\n## Refunds\n\nRefunds are paid within ten days of a request.\n")
    make_pdf(docs / "infra.pdf", ["Servers are patched every Tuesday night.",
                                  "Backups are copied to the Zurich vault hourly."])
    (tmp_path / "config.yaml").write_text("data_dir: state\nknowledge:\n  paths: [docs]\nembedder:\n  kind: none\n")
    monkeypatch.chdir(tmp_path)
    assert main(["ingest"]) == 0
    return tmp_path


def _questions(path: Path, *cases: dict | str) -> Path:
    path.write_text("\n".join(c if isinstance(c, str) else json.dumps(c) for c in cases) + "\n")
    return path


def test_report_counts_hits_by_document_and_page(project: Path, capsys) -> None:
    questions = _questions(
        project / "q.jsonl",
        "# comments and blank lines are skipped", "",
        {"q": "when are refunds paid", "source": "billing.md", "answer": "within ten days"},
        {"q": "where do backups go", "source": "infra.pdf", "pages": [2]},
        {"q": "backups vault", "source": "infra.pdf", "pages": [1]},  # right file, wrong page
        {"q": "zebra migration routes", "expect": "nothing"},
    )
    capsys.readouterr()
    assert main(["eval", str(questions), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["cases"], report["answerable"], report["off_topic_cases"]) == (4, 3, 1)
    assert report["doc_hit"]["@1"] == 1.0
    assert report["page_hit"]["@5"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["false_refusals"] == 0 and report["off_topic_answers"] == 0
    assert {"p50", "p95"} <= set(report["retrieval_ms"]) and report["failed"] == []
    [miss] = report["misses"]
    assert miss["line"] == 5 and miss["doc_rank"] == 1 and miss["page_rank"] is None
    assert miss["first"][0]["source"] == "docs/infra.pdf" and miss["first"][0]["pages"] == "2"

    assert main(["eval", str(questions)]) == 0
    text = capsys.readouterr().out
    assert "3 answerable, 1 off-topic" in text and "page       0.667" in text
    assert "line 5: backups vault" in text and "came first: docs/infra.pdf p.2" in text


def test_thresholds_fail_with_exit_code_one(project: Path, capsys) -> None:
    questions = _questions(project / "q.jsonl", {"q": "backups vault", "source": "infra.pdf", "pages": [1]},
                           {"q": "refunds paid", "expect": "nothing"})
    assert main(["eval", str(questions), "--min-doc-hit5", "1"]) == 0
    capsys.readouterr()
    assert main(["eval", str(questions), "--min-page-hit5", "0.9", "--max-off-topic", "0"]) == 1
    err = capsys.readouterr().err
    assert "page-hit@5 0.000 is below the minimum 0.9" in err
    assert "off-topic answers 1 is above the maximum 0" in err


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "q.jsonl:2: not JSON"),
    ('{"q": "x"}', "q.jsonl:2: \"source\""),
    ('{"q": "x", "source": "a.md", "pages": ["one"]}', "q.jsonl:2: \"pages\" must be a list of page numbers"),
    ('{"q": "x", "source": "a.md", "page": 3}', "q.jsonl:2: unknown key 'page'"),
    ('{"q": "x", "expect": "everything"}', "q.jsonl:2: \"expect\" can only be \"nothing\""),
    ('["q"]', "q.jsonl:2: each line must be a JSON object"),
])
def test_bad_question_files_exit_two_naming_the_line(project: Path, capsys, line: str, message: str) -> None:
    questions = _questions(project / "q.jsonl", {"q": "refunds", "source": "billing.md"}, line)
    assert main(["eval", str(questions)]) == 2
    assert message in capsys.readouterr().err


def test_mode_is_measured_as_asked(project: Path, capsys) -> None:
    questions = _questions(project / "q.jsonl", {"q": "refunds paid", "source": "billing.md"})
    capsys.readouterr()
    assert main(["eval", str(questions), "--json", "--mode", "keyword"]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "keyword"
    assert main(["eval", str(questions), "--mode", "vector"]) == 2  # this project has no embedder
    assert "--mode vector needs an embedder" in capsys.readouterr().err


def test_missing_or_empty_question_file(project: Path, capsys) -> None:
    assert main(["eval", "nowhere.jsonl"]) == 2
    assert "nowhere.jsonl: no such file" in capsys.readouterr().err
    (project / "empty.jsonl").write_text("# nothing yet\n")
    assert main(["eval", "empty.jsonl"]) == 2
    assert "no questions in it" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["eval", "empty.jsonl", "--min-page-hit1", "1.5"])
    assert exited.value.code == 2


def test_eval_only_searches_the_scopes_it_is_given(project: Path, capsys) -> None:
    (project / "secret.md").write_text("The launch codeword is heliotrope.")
    assert main(["ingest", "secret.md", "--scope", "slack:T1"]) == 0
    questions = _questions(project / "q.jsonl", {"q": "launch codeword heliotrope", "source": "secret.md"})
    capsys.readouterr()
    assert main(["eval", str(questions), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["doc_hit"]["@5"] == 0.0
    assert main(["eval", str(questions), "--json", "--scope", "slack:T1"]) == 0
    assert json.loads(capsys.readouterr().out)["doc_hit"]["@1"] == 1.0


def test_the_shipped_knowledge_set_passes_its_thresholds(tmp_path: Path, monkeypatch, capsys) -> None:
    """The CI gate on knowledge/: every passage found first, no off-topic answer, no refusal. Two short
    questions ("what happens on my first day?") are answered only through keyword agreement: without
    it the same set has two refusals."""
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    (tmp_path / "config.yaml").write_text("data_dir: state\nknowledge:\n  paths: [knowledge]\n")
    (tmp_path / "strict.yaml").write_text("data_dir: state\nanswer:\n  keyword_agreement: false\n")
    monkeypatch.chdir(tmp_path)
    assert main(["ingest"]) == 0
    capsys.readouterr()
    questions = str(ROOT / "evals" / "knowledge.jsonl")
    code = main(["eval", questions, "--json", "--min-page-hit1", "0.95", "--min-page-hit5", "1",
                 "--min-doc-hit5", "1", "--max-false-refusals", "0", "--max-off-topic", "0"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["failed"]
    assert report["answerable"] >= 23 and report["off_topic_cases"] >= 10  # the handbook's questions
    assert report["keyword_agreement"] is True and report["keyword_agreement_admitted"] == 2
    assert main(["--config", "strict.yaml", "eval", questions, "--json"]) == 0
    strict = json.loads(capsys.readouterr().out)
    assert strict["keyword_agreement"] is False and strict["keyword_agreement_admitted"] == 0
    assert strict["false_refusals"] == 2 and strict["off_topic_answers"] == 0
    assert {m["q"] for m in strict["misses"]} == {"what happens on my first day?", "do new people get a buddy?"}
