"""The relevance gate's rule (bot/rag/relevance.py): cosine similarity, or the keyword and vector
rankings agreeing on a passage that holds half the question's words; and what a person gets from it."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.cli.main import main
from bot.core.messages import Why
from bot.rag.relevance import is_relevant, keywords_agree, query_terms, words
from tests.support.paths import REPO

ROOT = REPO
TEXTS = {"day": "Your manager meets you at 9:30 on your first day.", "sick": "Ten paid sick days a year.",
         "dog": "Dogs may come on Fridays."}


def _agree(question: str, fused: list[str], keyword: list[str], vector: list[str]) -> bool:
    """keywords_agree on the passages of TEXTS, ranked as given, each with the question's terms it holds."""
    terms = query_terms(question)

    def rank(ranking: list[str], doc_id: str) -> int | None:
        return ranking.index(doc_id) + 1 if doc_id in ranking else None

    whys = [Why(keyword_rank=rank(keyword, i), vector_rank=rank(vector, i),
                matched_terms=tuple(t for t in terms if t in words(TEXTS.get(i, "")))) for i in fused]
    return keywords_agree(len(terms), whys)


def test_agreement_needs_a_top_passage_of_both_rankings_with_half_the_words() -> None:
    question = "what happens on my first day?"  # terms: happens, first, day; the passage holds two
    assert _agree(question, ["day"], ["day"], ["sick", "dog", "day"])
    assert not _agree(question, ["day"], ["day"], ["sick", "dog", "x", "day"])  # 4th by vector
    assert not _agree(question, ["day"], ["a", "b", "c", "day"], ["day"])  # 4th by keyword
    assert not _agree(question, ["a", "b", "c", "day"], ["day"], ["day"])  # 4th fused
    assert not _agree("what happens after the first call?", ["day"], ["day"], ["day"])  # 1 of 3
    assert _agree("dogs on fridays?", ["dog"], ["dog"], ["dog"])
    assert _agree("a dog on fridays?", ["dog"], ["dog"], ["dog"])  # "fridays": 1 of 2 is half
    # Words as written: "dog" is not "dogs". Folded, "the best day to plant tomatoes?" got in.
    assert not _agree("is a dog welcome?", ["dog"], ["dog"], ["dog"])
    assert not _agree("what is it?", ["day"], ["day"], ["day"])  # no words worth matching


def test_the_gate_admits_by_similarity_or_by_agreement_when_it_is_on() -> None:
    assert is_relevant(True, 0.30, False, 0.27)
    assert is_relevant(True, 0.11, True, 0.27)
    assert not is_relevant(True, 0.11, True, 0.27, keyword_agreement=False)
    assert not is_relevant(True, 0.11, False, 0.27)
    assert not is_relevant(False, 0.90, True, 0.27)  # nothing retrieved: nothing to answer from


def test_a_short_everyday_question_is_answered_and_an_off_topic_one_is_not(tmp_path: Path, monkeypatch,
                                                                        capsys) -> None:
    shutil.copytree(ROOT / "knowledge" / "handbook", tmp_path / "handbook")
    (tmp_path / "config.yaml").write_text("data_dir: state\nknowledge:\n  paths: [handbook]\n")
    (tmp_path / "strict.yaml").write_text("data_dir: state\nanswer:\n  keyword_agreement: false\n")
    monkeypatch.chdir(tmp_path)
    assert main(["ingest"]) == 0
    capsys.readouterr()
    nothing = "I couldn't find anything about that in the knowledge base"
    assert main(["ask", "what happens on my first day?"]) == 0
    answered = capsys.readouterr().out
    assert nothing not in answered and "[1] Onboarding at Lumen Works, Your first day" in answered
    assert main(["--config", "strict.yaml", "ask", "what happens on my first day?"]) == 0
    assert nothing in capsys.readouterr().out  # the similarity alone (0.11) is under answer.min_similarity
    assert main(["ask", "who won the football world cup in 2018?"]) == 0
    assert nothing in capsys.readouterr().out
