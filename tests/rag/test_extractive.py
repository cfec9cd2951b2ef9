"""Extractive answers (no LLM): the sentences quoted are the ones that answer, found by stem and by
the heading they sit under."""

from __future__ import annotations

from bot.core.messages import Source
from bot.rag.extractive import extractive_answer, sections


def _source(number: int, heading: str, text: str) -> Source:
    return Source(number, "handbook.md", "Handbook", None, heading, None, 0.5, text)


def test_a_sentence_under_a_heading_that_matches_is_quoted() -> None:
    sources = [_source(1, "Onboarding › Your first day",
                       "Your manager meets you at 9:30 at the reception. IT hands over your laptop before 11:00."),
               _source(2, "Time off › Sick leave", "Tell your manager before your usual start time. "
                       "From the fourth consecutive sick day on, a doctor's note is needed.")]
    text = extractive_answer("what happens on my first day?", sources)
    assert "> Your manager meets you at 9:30 at the reception. [1]" in text
    assert "IT hands over your laptop before 11:00. [1]" in text


def test_words_match_by_their_stem() -> None:
    sources = [_source(1, "Expenses › Booking travel", "Book flights through the travel desk 14 days ahead. "
                       "Trains are preferred over flights for trips under four hours.")]
    text = extractive_answer("booking a train", sources)
    assert text.startswith("From the knowledge base:")
    assert "> Trains are preferred over flights for trips under four hours. [1]" in text
    assert "> Book flights through the travel desk 14 days ahead. [1]" in text


def test_without_a_word_in_common_the_closest_passage_is_quoted() -> None:
    sources = [_source(1, "Office", "The door code changes every quarter. It is pinned in #office.")]
    assert extractive_answer("zeppelin?", sources) == ("The closest passage I found:\n\n"
                                                       "> The door code changes every quarter. [1]")


def test_a_pdfs_heading_line_is_not_glued_to_the_sentence_it_heads() -> None:
    """pdfium gives a heading as a line of its own: it heads the sentences, it is not quoted in them."""
    text = ("Passwords and accounts\nUse the company password manager (Vaultkeep) for every work password. "
            "Passwords must be at least 16\ncharacters long.\nReporting incidents\nReport a lost laptop within "
            "one hour.")
    answer = extractive_answer("which password manager", [_source(1, "", text)])
    assert "> Use the company password manager (Vaultkeep) for every work password. [1]" in answer
    assert "Passwords and accounts Use" not in answer
    assert "Passwords must be at least 16 characters long." in answer  # a line wrapped mid-sentence stays whole
    assert sections(text)[1] == ("Reporting incidents", "Report a lost laptop within one hour.")
