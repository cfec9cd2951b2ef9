"""How often kbot reads a legacy code page right, refuses it, or reads it wrong (mojibake), on the
corpus of tests/data/encodings_corpus.py (20 languages in 22 code pages, a sentence and a paragraph).

    .venv/bin/python bench/encodings.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.rag.parsing.encodings import decode_legacy  # noqa: E402
from bot.rag.parsing.types import ParseError  # noqa: E402
from tests.data.encodings_corpus import SAVED_AS, TEXTS  # noqa: E402


def main() -> int:
    outcomes: Counter[tuple[str, str]] = Counter()
    for language, page in SAVED_AS:
        for size, text in zip(("short", "long"), TEXTS[language], strict=True):
            try:
                found = decode_legacy(text.encode(page))
            except ParseError:
                found = None
            outcome = "refused" if found is None else "right" if found[0] == text else "WRONG"
            outcomes[(size, outcome)] += 1
            if outcome != "right":
                print(f"  {outcome}: {language} in {page} ({size})")
    print(f"{len(SAVED_AS)} texts in {len({p for _, p in SAVED_AS})} code pages, each short and long")
    for size in ("short", "long"):
        total = sum(n for (s, _), n in outcomes.items() if s == size)
        print(f"{size:5}: right {outcomes[(size, 'right')]}/{total}, refused {outcomes[(size, 'refused')]}, "
              f"wrong {outcomes[(size, 'WRONG')]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
