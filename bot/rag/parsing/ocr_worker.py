"""The OCR child process: `python -m bot.rag.parsing.ocr_worker MEMORY_MB DPI pdf|image PAGES` < file.

Reads the pages that have no text layer (PAGES: 1-based numbers, comma-separated; for an image,
its frames) with RapidOCR on ONNX Runtime, whose models ship inside the `rapidocr` wheel: nothing is
downloaded. Like the PDF worker, its address space is capped before it reads the file, and it
answers in JSON lines:
    {"frames": N}                                    an image's frames (pages), once it is open
    {"ready": true}                                  the OCR models are loaded
    {"start": N}                                     before page N (the parent shows it and extends its deadline)
    {"page": N, "text": "...", "score": 0.97}        page N's text and the recognizer's mean confidence
    {"page": N, "text": "", "score": 0, "blank": true}  page N has no ink at all: not given to OCR
    {"ok": true} at the end, or {"ok": false, "reason": ...} at any point.
"""

# Imports inside functions: this runs in a child interpreter, which imports only what the request needs.

from __future__ import annotations

import io
import json
import resource
import sys
from collections.abc import Callable, Iterator
from typing import Any

MEMORY_REASON = "OCR hit the {mb} MB memory cap and was stopped (knowledge.ocr_memory_mb)"
MISSING = "OCR is not installed here (pip install rapidocr onnxruntime, or kbot's `local` extra)"
MAX_PIXELS = 40_000_000  # a page or image is scaled down past this (a 200 dpi A0 poster is 65 M)
MAX_IMAGE_PIXELS = 200_000_000  # a larger image is refused before decoding (a decompression bomb)


INK_CONTRAST = 80  # a pixel this much darker (or lighter) than the page's paper is ink
TILE = 16  # pixels; a tile with some ink but not all ink looks like writing, not a border or a shadow


def blank(image: Any) -> bool:
    """True when nothing on the page looks like writing: no tile is partly ink. A white or grey page,
    JPEG noise and a uniform tint are blank; a single word is not. Such a page is not worth the second
    or so OCR takes (a 500-page blank TIFF took nine minutes)."""
    import numpy as np

    gray = np.asarray(image.convert("L"), dtype=np.int16)
    height, width = (gray.shape[0] // TILE) * TILE, (gray.shape[1] // TILE) * TILE
    if not height or not width:
        return False
    gray = gray[:height, :width]
    paper = int(np.median(gray))
    ink = (gray < paper - INK_CONTRAST) | (gray > paper + INK_CONTRAST)
    share = ink.reshape(height // TILE, TILE, width // TILE, TILE).mean(axis=(1, 3))
    return not bool(((share >= 0.02) & (share <= 0.6)).any())


class Refused(Exception):
    """A reason for the person, worded for one line."""


def _engine(memory_mb: int) -> Any:
    try:
        from rapidocr import RapidOCR
    except ModuleNotFoundError:
        raise Refused(MISSING) from None
    except ImportError as exc:  # its native libraries could not be mapped: out of address space, mostly
        raise Refused(f"OCR could not start within the {memory_mb} MB memory cap (knowledge.ocr_memory_mb; "
                      f"{str(exc)[:80]})") from None
    # No line-angle classifier: scans are upright, and it flipped one line in five of a typeset page
    # (character accuracy 0.79 with it, 0.999 without, bench/ocr.py).
    return RapidOCR(params={"Global.log_level": "critical", "Global.use_cls": False})


def _fit(image: Any) -> Any:
    pixels = image.width * image.height
    if pixels <= MAX_PIXELS:
        return image
    scale = (MAX_PIXELS / pixels) ** 0.5
    return image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))


def pdf_renderer(data: bytes, dpi: int) -> Callable[[int], Any]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Refused(f"damaged PDF ({str(exc)[:120]})") from None

    def render(number: int) -> Any:
        page = document[number - 1]
        width, height = page.get_size()
        scale = min(dpi / 72, (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
        image = page.render(scale=scale, grayscale=True).to_pil().convert("RGB")
        page.close()
        return image

    return render


def picture_frames(data: bytes) -> tuple[int, Callable[[int], Any]]:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except Image.DecompressionBombError:
        raise Refused("the image is too large to read (a decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Refused(f"not a readable image ({str(exc)[:120]})") from None

    def frame(number: int) -> Any:
        picture.seek(number - 1)  # TIFFs and GIFs may hold several pages
        return _fit(picture.convert("RGB"))

    return int(getattr(picture, "n_frames", 1) or 1), frame


def read_pages(data: bytes, kind: str, pages: list[int], dpi: int, memory_mb: int) -> Iterator[dict[str, Any]]:
    import numpy as np

    if kind == "pdf":
        image_of = pdf_renderer(data, dpi)
    else:
        frames, image_of = picture_frames(data)
        yield {"frames": frames}
        pages = [number for number in pages if number <= frames]
    engine: Any = None
    yield {"ready": True}
    for number in pages:
        yield {"start": number}
        image = image_of(number)
        if blank(image):
            yield {"page": number, "text": "", "score": 0.0, "blank": True}
            continue
        engine = engine or _engine(memory_mb)  # loaded for the first page with ink on it
        result = engine(np.array(image))
        texts = [str(t) for t in (result.txts or ()) if str(t).strip()]
        scores = [float(s) for s in (result.scores or ())]
        yield {"page": number, "text": "\n".join(texts), "score": sum(scores) / len(scores) if scores else 0.0}
    yield {"ok": True}


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def main() -> int:
    memory_mb, dpi, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    pages = [int(p) for p in sys.argv[4].split(",") if p]
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        data = sys.stdin.buffer.read()
        for record in read_pages(data, kind, pages, dpi, memory_mb):
            emit(record)
    except Refused as exc:
        emit({"ok": False, "reason": str(exc)})
    except MemoryError:
        emit({"ok": False, "reason": MEMORY_REASON.format(mb=memory_mb)})
    except Exception as exc:  # any failure is a reason for the person, not a crash
        last = (str(exc).strip().splitlines() or [""])[-1]  # wrapped engine errors end with the cause
        emit({"ok": False, "reason": f"OCR failed ({exc.__class__.__name__}: {last[:160]})"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
