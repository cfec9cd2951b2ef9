"""PDF text extraction: pypdf against pypdfium2 (PDFium) on real typeset manuals, through kbot's own
parsing child process (time limit, memory cap and JSON lines included).

Run: .venv/bin/python bench/pdf_parsers.py [--rounds N]
Fetches the manuals from Debian packages (scripts/fetch-public-docs, scripts/fetch-big-pdf) and adds a
generated 100-page PDF. Prints pages/s per parser (median of N alternating rounds, with the spread),
the pdfium/pypdf speed ratio, and whether both read the same pages.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fetched_document  # noqa: E402
from bench.ingest import make_pdf  # noqa: E402
from bot.rag.parsing import Limits, ParsedDocument, PdfLimits, parse_bytes  # noqa: E402

PARSERS = ("pdfium", "pypdf")


def real_pdfs() -> list[Path]:
    found = []
    for script, name in (("fetch-public-docs", "bashref.pdf"), ("fetch-big-pdf", "fullrefman.pdf")):
        path = fetched_document(script, name)
        if path is not None:
            found.append(path)
        else:
            print(f"(skipped {name}: this machine cannot fetch it from Debian)")
    return found


def parse(data: bytes, parser: str) -> tuple[float, ParsedDocument]:
    limits = Limits(max_bytes=100_000_000, pdf=PdfLimits(timeout_s=600, parser=parser))
    started = time.perf_counter()
    parsed = parse_bytes(data, "pdf", limits)
    return time.perf_counter() - started, parsed


def similarity(a: ParsedDocument, b: ParsedDocument) -> float:
    """How alike the two texts are (1.0 = the same characters), on the first 300,000 characters."""
    text_a = " ".join(" ".join(s.text.split()) for s in a.sections)[:300_000]
    text_b = " ".join(" ".join(s.text.split()) for s in b.sections)[:300_000]
    return SequenceMatcher(None, text_a, text_b, autojunk=False).quick_ratio()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=3)
    rounds = options.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "generated-100.pdf"
        make_pdf(generated, pages=100, words_per_page=400, rng=random.Random(7))
        documents = [generated, *real_pdfs()]
        print(f"bench/pdf_parsers.py — kbot's PDF child process, {rounds} alternating rounds, median (min–max)")
        for path in documents:
            data = path.read_bytes()
            times: dict[str, list[float]] = {parser: [] for parser in PARSERS}
            parsed: dict[str, ParsedDocument] = {}
            for _ in range(rounds):
                for parser in PARSERS:
                    seconds, parsed[parser] = parse(data, parser)
                    times[parser].append(seconds)
            pages = parsed["pdfium"].page_count or 0
            same_pages = [s.page for s in parsed["pdfium"].sections] == [s.page for s in parsed["pypdf"].sections]
            print(f"{path.name}: {pages} pages, {len(data) / 1e6:.1f} MB")
            for parser in PARSERS:
                median = statistics.median(times[parser])
                print(f"  {parser:7} {median:7.2f} s ({min(times[parser]):.2f}–{max(times[parser]):.2f})  "
                      f"{pages / median:7.1f} pages/s")
            ratios = [b / a for a, b in zip(times["pdfium"], times["pypdf"], strict=True)]
            alike = similarity(parsed["pdfium"], parsed["pypdf"])
            print(f"  pdfium is {statistics.median(ratios):.1f}x faster ({min(ratios):.1f}–{max(ratios):.1f}); "
                  f"same pages with text: {same_pages}; text similarity {alike:.4f}")


if __name__ == "__main__":
    main()
