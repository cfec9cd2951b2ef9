"""Word windows: overlap between neighbours, whitespace kept, no tiny repeat at the end."""

from bot.rag.splitting import split_words


def _words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def test_windows_overlap_by_the_given_words() -> None:
    chunks = split_words(_words(300), length=100, overlap=20)
    assert [c.split()[0] for c in chunks] == ["w0", "w80", "w160", "w240"]
    assert chunks[0].split()[-20:] == chunks[1].split()[:20]
    assert chunks[-1].split()[-1] == "w299"


def test_short_tail_joins_the_last_window() -> None:
    chunks = split_words(_words(275), length=100, overlap=20)  # a 4th window would add only 15 new words
    assert [len(c.split()) for c in chunks] == [100, 100, 115]
    chunks = split_words(_words(290), length=100, overlap=20)  # ...but 30 new words make their own window
    assert [len(c.split()) for c in chunks] == [100, 100, 100, 50]


def test_whitespace_inside_a_chunk_is_kept() -> None:
    assert split_words("a b\n\nc", 4, 1) == ["a b\n\nc"]
    assert split_words("   ", 4, 1) == []
