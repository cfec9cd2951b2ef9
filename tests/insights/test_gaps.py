"""Coverage-gap analytics: what is recorded (and what is not), 👎 votes, pruning, grouping by meaning,
and `kbot gaps` / `kbot stats` / `/kb gaps` in `kbot chat`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.cli.main import main
from bot.core.messages import Answer, Source, ThreadKey
from bot.insights.gap_groups import group_gaps
from bot.insights.gaps import EVERYWHERE, Area, Gap, GapLog
from bot.state.db import GapRow
from bot.state.engine import make_engine
from bot.state.feedback import FeedbackLog
from bot.state.memory import ThreadMemory
from tests.support.processes import run_kbot

C1 = ThreadKey("slack", "T1", "C1", "1.0")
C2 = ThreadKey("slack", "T1", "C2", "2.0")
OTHER_TEAM = ThreadKey("slack", "T2", "C1", "3.0")


def _source() -> Source:
    return Source(1, "handbook.md", "Handbook", None, "Time off", None, 0.5, "text")


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_engine(None, tmp_path)


def test_only_gaps_are_recorded_and_redacted(engine) -> None:  # type: ignore[no-untyped-def]
    log = GapLog(engine, weak_similarity=0.4)
    assert log.record_answer(C1, "Where is the espresso manual? Mail bob@example.com", Answer("none", grounded=False))
    assert log.record_answer(C1, "What is the office wifi?", Answer("x", [_source()], best_similarity=0.31))
    assert not log.record_answer(C1, "How many vacation days?", Answer("x", [_source()], best_similarity=0.72))
    assert not log.record_answer(C1, "A custom pipeline", Answer("x", [_source()], best_similarity=None))
    gaps = log.gaps(EVERYWHERE, 30)
    assert [(g.question, g.nothing_found, g.weak) for g in gaps] == [
        ("What is the office wifi?", False, True), ("Where is the espresso manual? Mail [email]", True, False)]
    assert gaps[0].sources == ("Handbook, Time off",)


def test_switched_off_records_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    log = GapLog(engine, enabled=False)
    assert not log.record_answer(C1, "Where is the espresso manual?", Answer("none", grounded=False))
    assert log.gaps(EVERYWHERE, 30) == []


def test_thumbs_down_makes_a_gap_and_thumbs_up_undoes_it(engine) -> None:  # type: ignore[no-untyped-def]
    memory, feedback, log = ThreadMemory(engine), FeedbackLog(engine), GapLog(engine)
    memory.remember(C1, question="How many vacation days? I'm at +44 20 7946 0958", query="q", answer="25",
                    sources=[{"source": "handbook.md", "label": "Handbook, Time off"}], mode="llm", author="U1",
                    reply_id="r1")
    feedback.record("r1", "U9", -1)
    log.record_vote("r1")
    [gap] = log.gaps(Area("slack", "T1", "C1"), 30)
    assert gap.thumbs_down and gap.question == "How many vacation days? I'm at [phone]"
    assert gap.sources == ("Handbook, Time off",)
    feedback.record("r1", "U9", 1)  # the same person changes their mind
    log.record_vote("r1")
    assert log.gaps(EVERYWHERE, 30) == []
    log.record_vote("unknown-reply")  # a vote on an answer that is not on record changes nothing
    assert log.gaps(EVERYWHERE, 30) == []


def test_areas_and_days_select_and_old_gaps_are_forgotten(engine) -> None:  # type: ignore[no-untyped-def]
    log = GapLog(engine, keep_days=30)
    for key, text in ((C1, "one"), (C2, "two"), (OTHER_TEAM, "three")):
        log.record_answer(key, text, Answer("none", grounded=False))
    assert [g.question for g in log.gaps(Area("slack", "T1", "C1"), 30)] == ["one"]
    assert sorted(g.question for g in log.gaps(Area("slack", "T1"), 30)) == ["one", "two"]
    assert len(log.gaps(EVERYWHERE, 30)) == 3
    with Session(engine) as session, session.begin():
        session.execute(update(GapRow).where(GapRow.question == "two")
                        .values(created_at=datetime.now(UTC) - timedelta(days=40)))
    assert sorted(g.question for g in log.gaps(EVERYWHERE, 60)) == ["one", "three", "two"]
    assert sorted(g.question for g in log.gaps(EVERYWHERE, 7)) == ["one", "three"]
    assert log.forget_older_than_keep_days() == 1
    assert sorted(g.question for g in log.gaps(EVERYWHERE, 60)) == ["one", "three"]


def _gap(question: str, minutes_ago: int = 0, *, down: bool = False) -> Gap:
    return Gap(question, datetime.now(UTC) - timedelta(minutes=minutes_ago), not down, False, down, (), "x")


QUESTIONS = [
    _gap("How do I restore a single table from a backup?", 9),
    _gap("restoring one table from last night's backup", 8, down=True),
    _gap("Can I bring my dog to the office?", 7),
    _gap("what's the procedure to restore just one database table", 6),
    _gap("are pets allowed at work", 5),
    _gap("What is the VPN server address?", 4),
]


def test_questions_are_grouped_by_meaning_with_the_embedder(local_embedder) -> None:  # type: ignore[no-untyped-def]
    groups = group_gaps(QUESTIONS, local_embedder.embed_query)
    assert [g.count for g in groups] == [3, 2, 1]
    restore, pets, vpn = groups
    assert "table" in restore.wording and restore.thumbs_down == 1 and restore.nothing_found == 2
    assert restore.last_asked == QUESTIONS[3].asked_at
    assert {pets.wording} <= {"Can I bring my dog to the office?", "are pets allowed at work"}
    assert vpn.wording == "What is the VPN server address?"


def test_without_an_embedder_questions_group_by_their_words() -> None:
    groups = group_gaps([_gap("restore a table from backup"), _gap("How do I restore a table from a backup?"),
                         _gap("VPN server address")])
    assert [(g.count, g.wording) for g in groups][0][0] == 2 and groups[1].wording == "VPN server address"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Alpha\n\nThe alpha team owns billing.")
    (tmp_path / "config.yaml").write_text("data_dir: state\nknowledge:\n  paths: [docs]\nembedder:\n  kind: none\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_gaps_and_stats(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    main(["ingest"])
    main(["ask", "zebra migration patterns, ask ann@example.com"])
    main(["ask", "zebra migration pattern"])
    main(["ask", "Which team owns billing?"])
    capsys.readouterr()
    assert main(["gaps", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 2 and len(report["topics"]) == 1
    assert report["topics"][0]["count"] == 2 and report["topics"][0]["nothing_found"] == 2
    assert "ann@" not in json.dumps(report)
    assert main(["gaps", "--place", "slack:T1"]) == 0
    assert "No coverage gaps in this workspace" in capsys.readouterr().out
    assert main(["stats", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert "3 question(s), 1 answered from sources (33%)" in out and "1 new document(s)" in out
    with pytest.raises(SystemExit) as refused:
        main(["gaps", "--days", "0"])
    assert refused.value.code == 2 and "from 1 to 366" in capsys.readouterr().err


def test_weak_answers_are_recorded_through_the_real_pipeline(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Alpha\n\nThe alpha team owns billing and invoices.")
    # Every answer is "weak" under a similarity bar of 0.99: the best passage's score reaches the gap log.
    (tmp_path / "config.yaml").write_text(
        "data_dir: state\nknowledge:\n  paths: [docs]\nanalytics:\n  weak_similarity: 0.99\n")
    monkeypatch.chdir(tmp_path)
    main(["ingest"])
    main(["ask", "Which team owns billing?"])
    capsys.readouterr()
    main(["gaps", "--json"])
    [topic] = json.loads(capsys.readouterr().out)["topics"]
    assert topic["weak"] == 1 and topic["nothing_found"] == 0 and topic["sources"] == ["Alpha"]


def test_chat_shows_every_place(project: Path) -> None:
    session = "zebra migration patterns\n/kb gaps\n/kb stats 3\n/kb gaps forever\n\n"
    run = run_kbot(["chat"], project, input=session)
    assert run.returncode == 0, run.stderr
    assert "Missing topics in every place, last 30 days: 1 question(s) in 1 topic(s)" in run.stdout
    assert "“zebra migration patterns” — asked 1×" in run.stdout
    assert "Last 3 days in every place: 1 question(s), 0 answered from sources (0%)" in run.stdout
    assert "Give a number of days from 1 to 366, e.g. /kb gaps 30." in run.stdout



def test_a_digest_place_that_names_no_workspace_is_a_config_error(tmp_path: Path) -> None:
    from bot.config import ConfigError
    from bot.wiring import parse_settings

    with pytest.raises((ConfigError, ValueError), match="PLATFORM:WORKSPACE"):
        parse_settings({"data_dir": str(tmp_path), "analytics": {"digest": "weekly", "digest_to": ["slack"]}},
                       root=tmp_path)


def test_an_unquoted_off_in_yaml_means_no_digest(tmp_path: Path) -> None:
    from bot.wiring import load_settings

    (tmp_path / "config.yaml").write_text("data_dir: state\nanalytics:\n  digest: off\n")
    assert load_settings(tmp_path / "config.yaml").analytics.digest == "off"
