"""Redaction's precision and recall on the corpus of tests/data/pii_corpus.py, and its cost per text.

    .venv/bin/python bench/redaction.py [--runs N]

Recall: personal items (phones of 16 countries in national and international form, IBANs, cards,
e-mail addresses, secrets) replaced by their tag. Precision: of all the replacements made, those that
were personal data (a harmless text that changed counts as a false positive).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.redaction import redact  # noqa: E402
from tests.data.pii_corpus import HARMLESS, PERSONAL  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    found, missed, by_kind = 0, [], Counter()
    for text, item, tag, country in PERSONAL:
        out = redact(text)
        if item not in out and f"[{tag}]" in out:
            found += 1
            by_kind[tag] += 1
        else:
            missed.append(f"{country} {tag}: {text!r} -> {out!r}")
    false_positives = [(text, redact(text)) for text in HARMLESS if redact(text) != text]
    precision = found / (found + len(false_positives)) if found else 0.0
    recall = found / len(PERSONAL)
    print(f"corpus: {len(PERSONAL)} personal items ({len({c for *_, c in PERSONAL if c != '-'})} countries), "
          f"{len(HARMLESS)} harmless texts")
    print(f"recall {recall:.3f} ({found}/{len(PERSONAL)}), precision {precision:.3f} "
          f"({len(false_positives)} harmless text(s) changed)")
    print("found by kind: " + ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items())))
    for line in missed:
        print("  missed", line)
    for text, out in false_positives:
        print(f"  changed {text!r} -> {out!r}")
    texts = [t for t, *_ in PERSONAL] + HARMLESS
    per_text = []
    for _ in range(args.runs):
        started = time.perf_counter()
        for text in texts:
            redact(text)
        per_text.append((time.perf_counter() - started) / len(texts) * 1000)
    print(f"cost per text: median {statistics.median(per_text):.2f} ms (min {min(per_text):.2f}, max "
          f"{max(per_text):.2f}, {args.runs} runs over {len(texts)} texts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
