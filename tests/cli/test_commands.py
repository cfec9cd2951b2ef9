"""`kbot ingest / search / status / delete` end to end, in-process, on a temp project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.support.processes import run_kbot
from tests.support.samples import make_encrypted_pdf, make_pdf


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Alpha\n\nThe alpha team owns billing.")
    (tmp_path / "docs" / "b.txt").write_text("The beta team owns search and ranking.")
    (tmp_path / "docs" / "c.html").write_text(
        "<html><body><h1>Gamma</h1><p>The gamma team owns mobile.</p></body></html>"
    )
    make_pdf(tmp_path / "docs" / "d.pdf", ["Delta page one: onboarding.", "Delta page two: the delta team owns infra."])
    make_encrypted_pdf(tmp_path / "docs" / "bad.pdf")
    (tmp_path / "docs" / ".hidden.md").write_text("hidden files are skipped")
    (tmp_path / "config.yaml").write_text("data_dir: state\nknowledge:\n  paths: [docs]\nembedder:\n  kind: none\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_ingest_batch_summary_names_the_failure(project: Path, capsys) -> None:
    assert main(["ingest"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("4/5 indexed; failed: bad.pdf (password-protected (remove the password")
    assert "failed: docs/bad.pdf: password-protected" in err
    assert main(["ingest", "docs/a.md"]) == 0
    assert capsys.readouterr().out.startswith("1/1 indexed (1 unchanged)")


def test_ingest_of_an_edited_document_says_how_many_vectors_it_kept(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "config.yaml").write_text("data_dir: state\nembedder:\n  runtime: onnx\n")
    monkeypatch.chdir(tmp_path)
    parts = [f"## Part {i}\n\n" + " ".join(f"Rule {j} of part {i} is rule number {i * 50 + j}." for j in range(40))
             for i in range(3)]
    doc = tmp_path / "rules.md"
    doc.write_text("# Rules\n\n" + "\n\n".join(parts))
    assert main(["ingest", "rules.md"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("1/1 indexed") and "kept their vectors" not in first
    parts[2] = "## Part 2\n\nThis part was rewritten."
    doc.write_text("# Rules\n\n" + "\n\n".join(parts))
    assert main(["ingest", "rules.md"]) == 0
    second = capsys.readouterr()
    chunks = int(second.out.split(" — ")[1].split(" chunks")[0])
    assert f"{chunks} chunks ({chunks - 1} kept their vectors from the previous version)" in second.out
    assert f"rules.md: {chunks} chunks, {chunks - 1} vectors kept" in second.err


def test_search_json_and_scopes(project: Path, capsys) -> None:
    main(["ingest", "docs/a.md", "docs/d.pdf"])
    main(["ingest", "docs/b.txt", "--scope", "slack:T1"])
    capsys.readouterr()
    assert main(["search", "team owns", "--json", "--top-k", "10"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert {h["source"] for h in hits} == {"docs/a.md", "docs/d.pdf"}
    assert all({"source", "page", "score", "text", "scope"} <= set(h) for h in hits)
    assert next(h for h in hits if h["source"] == "docs/d.pdf")["page"] == 2
    main(["search", "team owns", "--json", "--scope", "slack:T1"])
    assert [h["source"] for h in json.loads(capsys.readouterr().out)] == ["docs/b.txt"]
    main(["search", "team owns", "--json", "--scope", "global", "--scope", "slack:T1"])
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_status_and_delete(project: Path, capsys) -> None:
    main(["ingest", "docs/a.md", "docs/d.pdf"])
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["documents"], status["chunks"], status["store"]) == (2, 3, "lancedb")
    assert status["embedder"].startswith("none") and status["data_dir_bytes"] > 0
    assert main(["delete", "docs/d.pdf"]) == 0
    assert capsys.readouterr().out.strip() == "deleted docs/d.pdf: 2 chunks"
    assert main(["delete", str(project / "docs" / "a.md")]) == 0  # a path names the same source
    assert main(["delete", "docs/nope.md"]) == 1
    assert "no indexed source named 'docs/nope.md'" in capsys.readouterr().err
    main(["status", "--json"])
    assert json.loads(capsys.readouterr().out)["chunks"] == 0


def test_missing_path_is_reported(project: Path, capsys) -> None:
    assert main(["ingest", "docs/a.md", "nowhere.pdf"]) == 1
    assert "1/2 indexed; failed: nowhere.pdf (no such file or folder)" in capsys.readouterr().out


def test_changed_embedder_is_refused_until_reindex(project: Path, capsys) -> None:
    assert main(["ingest", "docs/a.md", "docs/b.txt"]) == 0
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("kind: none", "kind: local"))
    capsys.readouterr()
    assert main(["search", "billing"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("kbot: error: the knowledge base was embedded with none/none (0 dims)")
    assert err.endswith("run `kbot reindex` to re-embed it with the new embedder") and "\n" not in err
    assert main(["reindex"]) == 0
    assert "reindexed 2 chunks with local/all-MiniLM-L6-v2 (384 dims)" in capsys.readouterr().out
    assert main(["search", "who takes care of invoices and payments?", "--mode", "vector", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["source"] == "docs/a.md"


def test_ask_threads_share_memory_across_processes(project: Path) -> None:
    main(["ingest", "docs/a.md", "docs/b.txt"])

    def ask(question: str) -> dict:
        run = run_kbot(["ask", question, "--thread", "T42", "--json"], project)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    first = ask("Which team owns billing?")
    assert first["thread"] == "T42" and first["mode"] == "extractive"
    assert "alpha team owns billing" in first["answer"] and first["sources"][0]["source"] == "docs/a.md"
    assert set(first["sources"][0]) >= {"source", "page", "score", "text"}
    second = ask("and search?")  # a follow-up: searched together with the previous question
    assert second["sources"] and second["answer"].startswith("From the knowledge base:")
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{project / 'state' / 'kbot.db'}")
    with engine.connect() as db:
        rows = db.execute(text("SELECT question, query FROM turns ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        ("Which team owns billing?", "Which team owns billing?"),
        ("and search?", "Which team owns billing? and search?"),
    ]


def test_ask_without_anything_relevant(project: Path, capsys) -> None:
    main(["ingest", "docs/a.md"])
    capsys.readouterr()
    assert main(["ask", "zebra migration patterns", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"] == [] and out["answer"].startswith("I couldn't find anything about that")


def test_chat_keeps_one_thread_and_status_names_the_answer_mode(project: Path, capsys) -> None:

    main(["ingest", "docs/a.md", "docs/b.txt"])
    capsys.readouterr()
    main(["status", "--json"])
    assert json.loads(capsys.readouterr().out)["answer_mode"].startswith("extractive")
    run = run_kbot(["chat", "--thread", "C7"], project, input="Which team owns billing?\nand ranking?\n\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("kbot chat — thread C7, extractive")
    assert run.stdout.count("kbot> From the knowledge base:") == 2
    assert "alpha team owns billing" in run.stdout and "beta team owns search and ranking" in run.stdout


def test_chat_runs_knowledge_commands(project: Path) -> None:

    session = "/kb upload docs/a.md\n/kb list\nWhich team owns billing?\n/kb delete a.md\n/kb list\n/kb nope\n\n"
    run = run_kbot(["chat", "--scope", "team:x"], project, input=session)
    assert run.returncode == 0, run.stderr
    assert "✓ a.md indexed: 1 chunks" in run.stdout
    assert "• a.md — 1 chunks" in run.stdout and "(uploaded here)" in run.stdout
    assert "alpha team owns billing" in run.stdout
    assert "Deleted a.md: 1 chunks" in run.stdout
    assert "No documents are answerable here yet" in run.stdout
    assert "There is no /kb nope" in run.stdout


def test_ask_explain_says_why_each_source_was_cited(project: Path, capsys) -> None:
    main(["ingest", "docs/a.md", "docs/b.txt"])
    capsys.readouterr()
    assert main(["ask", "Which team owns billing?", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "Why these sources? kbot searched for: Which team owns billing?" in out
    assert "[1] Alpha: keyword #1 (BM25" in out and "matched: team, owns, billing" in out
    assert main(["ask", "Which team owns billing?", "--json", "--explain", "--preset", "fast"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sources"][0]["why"]["keyword_rank"] == 1
    assert result["sources"][0]["why"]["matched_terms"] == ["team", "owns", "billing"]
    assert result["explanation"].startswith("Why these sources?")


def test_pipeline_show_prints_loadable_yaml(project: Path, capsys) -> None:
    import yaml

    assert main(["pipeline", "show"]) == 0
    both = [yaml.safe_load(part) for part in capsys.readouterr().out.split("---\n")]
    assert [doc["metadata"]["kbot"] for doc in both] == ["answer", "indexing"]
    assert main(["pipeline", "show", "answer"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("# the answer pipeline (kbot's default)")
    (project / "answer.yaml").write_text(shown)
    (project / "config.yaml").write_text((project / "config.yaml").read_text() + "answer:\n  pipeline: answer.yaml\n")
    assert main(["pipeline", "show", "answer"]) == 0
    assert capsys.readouterr().out.startswith("# the answer pipeline (loaded from answer.yaml)")
    (project / "answer.yaml").write_text(shown.replace("bot.rag.pipeline.citation_filter.CitationFilter",
                                                       "bot.nope.Gone"))
    assert main(["ask", "Which team owns billing?"]) == 2
    assert "config error: answer.pipeline: " in capsys.readouterr().err


def test_status_names_the_preset_and_chat_admins_choose_one(project: Path, capsys) -> None:

    main(["ingest", "docs/a.md"])
    capsys.readouterr()
    main(["status", "--json"])
    status = json.loads(capsys.readouterr().out)
    assert (status["retrieval_preset"], status["reranker"]) == ("balanced", "none")
    assert (status["answer_pipeline"], status["indexing_pipeline"]) == ("default", "default")
    session = "/kb preset\n/kb preset accurate\n/kb scope\n/kb preset sideways\n/kb preset default\n/kb preset\n\n"
    run = run_kbot(["chat"], project, input=session)
    assert run.returncode == 0, run.stderr
    said = [line.split("Answers here use the ", 1)[1] for line in run.stdout.splitlines()
            if "Answers here use the " in line]
    assert [line.split(":")[0] for line in said] == [
        "balanced preset (the configured default)", "accurate preset (chosen for this channel)",
        "balanced preset (the configured default)", "balanced preset (the configured default)"]
    assert "Retrieval preset: accurate; see /kb preset." in run.stdout
    assert "Use /kb preset to see it, or (admins) /kb preset fast|balanced|accurate|default." in run.stdout


def test_chat_saves_its_thread(project: Path) -> None:
    main(["ingest", "docs/a.md"])
    session = "Which team owns billing?\n/kb save\n/kb list\n\n"

    run = run_kbot(["chat", "--thread", "T9"], project, input=session)
    assert run.returncode == 0, run.stderr
    assert "Saved this thread (2 messages, 1 chunks) to the knowledge base as kbot chat thread T9" in run.stdout
    assert "• kbot chat thread T9 — 1 chunks" in run.stdout


@pytest.mark.parametrize(("environment", "huge_pages"), [(None, "False"), ("1", "True")])
def test_kbot_keeps_numpy_arrays_in_small_pages_unless_told(tmp_path, environment, huge_pages) -> None:
    """README "How the embedded store searches": huge pages made each reload of the store's copy slow
    on a VM; NUMPY_MADVISE_HUGEPAGE=1 still restores NumPy's default."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if environment is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = environment
    (tmp_path / "config.yaml").write_text("data_dir: state\nknowledge:\n  paths: []\n")
    code = ("import sys; from bot.cli.main import main; code = main(['status']); import numpy; "
            "print('RESULT', code, numpy._core.multiarray._get_madvise_hugepage())")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("RESULT", 1)[1].split() == ["0", huge_pages]
