"""OCR speed and accuracy on a generated scanned PDF: pages rendered to images (no text layer) from
real manual text, read back through kbot's own OCR child process (RapidOCR on ONNX Runtime).

Run: .venv/bin/python bench/ocr.py [--pages 20] [--rounds 3]
Prints pages/s for each DPI (median of N alternating rounds, with the spread), the time to the first
page (model loading), and the character accuracy of the recognized text against what was drawn.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import textwrap
import time
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.rag.parsing import Limits, OcrLimits, parse_bytes  # noqa: E402

DPIS = (150, 200)
LINES_PER_PAGE = 32


def source_text() -> str:
    """Real prose: the project's own user guide and sample handbook (always in the repo)."""
    parts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "knowledge").rglob("*.md"))]
    words = " ".join(" ".join(parts).replace("#", " ").replace("`", "").replace("|", " ").split())
    return words


def scanned_pdf(pages: int) -> tuple[bytes, list[str]]:
    """An A4 scan per page at 150 dpi (text drawn with Pillow's bundled font), as one image-only PDF."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=26)
    lines = textwrap.wrap(source_text(), 70)
    images, truth = [], []
    for number in range(pages):
        chunk = [lines[(number * LINES_PER_PAGE + i) % len(lines)] for i in range(LINES_PER_PAGE)]
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(chunk):
            draw.text((100, 110 + row * 48), line, fill=0, font=font)
        images.append(image)
        truth.append("\n".join(chunk))
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return buffer.getvalue(), truth


def accuracy(read: list[str], truth: list[str]) -> float:
    ratios = [SequenceMatcher(None, " ".join(a.split()), " ".join(b.split())).ratio() for a, b in zip(read, truth,
                                                                                                    strict=True)]
    return statistics.mean(ratios)


def one_run(data: bytes, pages: int, dpi: int) -> tuple[float, float, list[str]]:
    limits = Limits(max_bytes=10**9, ocr=OcrLimits(dpi=dpi, max_pages=pages))
    first: list[float] = []
    started = time.perf_counter()

    def progress(done: int, total: int, stage: str = "reading") -> None:
        if stage == "ocr" and not first:
            first.append(time.perf_counter() - started)

    parsed = parse_bytes(data, "pdf", limits, progress)
    took = time.perf_counter() - started
    texts = {s.page: s.text for s in parsed.sections}
    return took, first[0] if first else took, [texts.get(n, "") for n in range(1, pages + 1)]


def cpu_flags() -> str:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    have = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni") if f" {f}" in flags]
    return ", ".join(have) or "no AVX2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data, truth = scanned_pdf(args.pages)
    print(f"{args.pages} scanned A4 pages ({len(data) / 1e6:.1f} MB), {LINES_PER_PAGE} lines each; "
          f"{platform.processor() or platform.machine()}; CPU: {cpu_flags()}")
    runs: dict[int, list[tuple[float, float, float]]] = {dpi: [] for dpi in DPIS}
    for _ in range(args.rounds):
        for dpi in DPIS:
            took, first, read = one_run(data, args.pages, dpi)
            runs[dpi].append((took, first, accuracy(read, truth)))
    for dpi, results in runs.items():
        rates = sorted(args.pages / took for took, _, _ in results)
        firsts = sorted(first for _, first, _ in results)
        print(f"dpi {dpi}: {statistics.median(rates):.2f} pages/s (runs {rates[0]:.2f}–{rates[-1]:.2f}); "
              f"text pass and model start {statistics.median(firsts):.2f} s; "
              f"character accuracy {statistics.mean(a for _, _, a in results):.4f}")
    base = statistics.median(args.pages / t for t, _, _ in runs[DPIS[0]])
    other = statistics.median(args.pages / t for t, _, _ in runs[DPIS[1]])
    print(f"ratio dpi {DPIS[1]} / dpi {DPIS[0]} pages/s: {other / base:.2f}")


if __name__ == "__main__":
    main()
