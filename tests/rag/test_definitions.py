"""Command entries in a manual's extracted text: the term line repeated by its synopsis, not prose or code."""

from bot.rag.definitions import command_entries
from bot.rag.splitting import split_passages

# As pdfium extracts the Bash Reference Manual (bash-doc 5.2.15, p. 56 and p. 36).
BUILTINS = ("Exit the shell, returning a status of n to the shell's parent.\n"
            "export\nexport [-fn] [-p] [name[=value]]\n"
            "Mark each name to be passed to child processes in the environment. If the\n"
            "-f option is supplied, the names refer to shell functions.\n"
            "getopts\ngetopts optstring name [arg ...]\n"
            "getopts is used by shell scripts to parse positional parameters.\n")
NOT_ENTRIES = ("The return status is zero unless the\n"  # a wrapped line, not after a sentence end
               "export\nexport builtin is given an invalid option.\n"
               "These examples show substring expansion:\n$ echo ${array[@]:7}\n7 8 9\n"  # code, not repeated
               "Then run it.\nbackup\nthe database nightly.\n")  # a short line not followed by a synopsis


def test_entries_are_found_where_a_synopsis_repeats_the_term() -> None:
    entries = command_entries(BUILTINS)
    assert [entry.name for entry in entries] == ["export", "getopts"]
    assert [BUILTINS[entry.offset:].split("\n", 1)[0] for entry in entries] == ["export", "getopts"]
    assert command_entries("  trap\n  trap [-lp] [arg]\n")[0].offset == 2  # at the term, past its indent


def test_prose_and_code_are_not_entries() -> None:
    assert command_entries(NOT_ENTRIES) == []
    assert command_entries("") == [] and command_entries("export") == []


def test_a_passage_past_half_its_length_ends_where_an_entry_begins() -> None:
    intro = " ".join(f"Intro sentence {i} is here." for i in range(12))  # 60 words
    entry = "trap\ntrap [-lp] [arg]\n" + " ".join(f"Trap sentence {i} says more." for i in range(10))
    text = f"{intro}\n{entry}"
    offset = text.index("trap\n")
    plain = [text[a:b] for a, b in split_passages(text, 100, 20)]
    assert not any(passage.startswith("trap\n") for passage in plain)  # without entries: cut by length
    cut = [text[a:b] for a, b in split_passages(text, 100, 20, [offset])]
    assert cut[0].endswith("Intro sentence 11 is here.") and cut[1].startswith("trap\ntrap [-lp]")  # no overlap
    short = [text[a:b] for a, b in split_passages(text[offset - 30:], 100, 20, [30])]
    assert len(short) == 1  # under half a passage before it: the entry joins what came first
