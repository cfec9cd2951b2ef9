"""Passages: whole sentences, about N words, overlap by whole sentences, code blocks and list items intact."""

import re

import pytest

from bot.rag.splitting import split_passages


def _prose(sentences: int) -> str:
    return " ".join(f"Sentence {i} has exactly six words." for i in range(sentences))


def _texts(text: str, length: int, overlap: int) -> list[str]:
    return [text[a:b] for a, b in split_passages(text, length, overlap)]


def test_passages_start_and_end_at_sentence_boundaries() -> None:
    passages = _texts(_prose(60), 50, 12)  # 360 words
    assert len(passages) > 5
    for passage in passages:
        assert re.match(r"Sentence \d+ ", passage), passage[:30]
        assert passage.endswith("words.")
        assert len(passage.split()) <= 50


def test_neighbours_share_whole_sentences_up_to_the_overlap() -> None:
    first, second = _texts(_prose(20), 30, 12)[:2]
    shared = [s for s in re.findall(r"Sentence \d+", second) if s in first]
    assert shared == re.findall(r"Sentence \d+", second)[:2]  # two 6-word sentences fit in 12


def test_a_short_tail_joins_the_last_passage() -> None:
    text = _prose(10) + " Tail."  # 61 words: a passage of 30, then one that adds 31, then one word
    passages = _texts(text, 30, 6)
    assert passages[-1].endswith("Tail.")
    assert all(len(p.split()) > 1 for p in passages)


def test_code_blocks_stay_whole_and_list_items_start_lines() -> None:
    text = ("Install it first. Then run:\n```\nmake\nmake install. Done\n```\n"
            "- first item.\n- Second item.\nAfter the list.")
    passages = _texts(text, 6, 1)
    assert any("```\nmake\nmake install. Done\n```" in p for p in passages)
    assert not any(p.startswith("make install") or p.startswith("Done") for p in passages)
    assert any(p.startswith("- first item.") for p in passages)


def test_an_overlong_sentence_is_cut_by_words_and_nothing_is_lost() -> None:
    text = " ".join(f"w{i}" for i in range(250))
    passages = _texts(text, 100, 20)
    assert [p.split()[0] for p in passages] == ["w0", "w80", "w160"]
    assert passages[-1].split()[-1] == "w249"


def test_empty_text_and_bad_overlap() -> None:
    assert split_passages("   ", 10, 2) == []
    assert split_passages("one", 10, 2) == [(0, 3)]
    with pytest.raises(ValueError):
        split_passages("a b", 2, 2)
