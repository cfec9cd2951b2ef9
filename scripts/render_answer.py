"""Draw the README's picture: a real answer from kbot's own code, on the sample handbook in
knowledge/, rendered as a chat thread into docs/images/answer.png (Pillow). No model, no keys:
keyword retrieval and an extractive answer, exactly what `kbot ask` prints without an LLM.

    .venv/bin/python scripts/render_answer.py ["question"]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.adapters.formatting import answer_markdown  # noqa: E402
from bot.app import App  # noqa: E402
from bot.core.messages import Answer, Incoming, PortLimits, ThreadKey  # noqa: E402
from bot.core.pacing import UNPACED, Pacing  # noqa: E402
from bot.core.scopes import GLOBAL  # noqa: E402
from bot.wiring import parse_settings  # noqa: E402

QUESTION = "How many vacation days do I get, and can I carry them over?"
OUT = ROOT / "docs" / "images" / "answer.png"
WIDTH, MARGIN, WRAP = 900, 28, 82


class Captured:
    """A reply port that keeps the final answer (the picture shows what a platform would)."""

    limits = PortLimits(max_length=4000, min_edit_interval_s=0.0)

    def __init__(self) -> None:
        self.answer: Answer | None = None

    @property
    def pacing(self) -> Pacing:
        return UNPACED

    async def start(self) -> None:
        return None

    async def update(self, index: int, text: str) -> None:
        return None

    async def finish(self, answer: Answer) -> None:
        self.answer = answer

    async def fail(self, message: str) -> None:
        raise SystemExit(f"render_answer: kbot could not answer: {message}")


def answer(question: str) -> Answer:
    with tempfile.TemporaryDirectory() as folder:
        settings = parse_settings({"data_dir": folder, "embedder": {"kind": "none"}, "llm": {"kind": "extractive"},
                                   "knowledge": {"paths": [str(ROOT / "knowledge")]}}, root=ROOT)
        app = App(settings)
        for path in sorted((ROOT / "knowledge").rglob("*")):
            if path.is_file():
                app.indexer.index_path(path, str(path.relative_to(ROOT / "knowledge")))
        port = Captured()
        incoming = Incoming(ThreadKey("picture", "team", "general", "1"), "alice", question, frozenset({GLOBAL}))
        asyncio.run(app.conversation.answer_once(incoming, port))
        if port.answer is None:
            raise SystemExit("render_answer: no answer")
        return port.answer


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/Library/Fonts"):
        if (Path(folder) / name).exists():
            return ImageFont.truetype(str(Path(folder) / name), size)
    return ImageFont.load_default(size)


def _lines(text: str) -> list[tuple[bool, str]]:
    """(quoted?, line) wrapped for the picture: a `> ` quote keeps its bar on each wrapped line."""
    out: list[tuple[bool, str]] = []
    for paragraph in text.splitlines():
        quoted = paragraph.startswith("> ")
        body = paragraph[2:] if quoted else paragraph
        out += [(quoted, line) for line in (textwrap.wrap(body, WRAP - 4 if quoted else WRAP) or [""])]
    return out


def render(question: str, reply: str, out: Path) -> None:
    """Slack-like: a name, then the text; **bold** in bold, `> ` quotes with a bar, Sources in bold."""
    body, bold, small = _font(17), _font(17, bold=True), _font(15)
    blocks = [("alice", _lines(question)), ("kbot", _lines(reply))]
    height = MARGIN * 2 + sum(34 + 24 * len(lines) + 18 for _, lines in blocks)
    image = Image.new("RGB", (WIDTH, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    y = MARGIN
    for who, lines in blocks:
        draw.ellipse((MARGIN, y, MARGIN + 30, y + 30), fill=(74, 21, 75) if who == "kbot" else (29, 155, 209))
        draw.text((MARGIN + 42, y + 4), who, font=bold, fill=(20, 20, 20))
        if who == "kbot":
            label_x = MARGIN + 42 + draw.textlength("kbot ", font=bold)
            draw.text((label_x, y + 6), "APP", font=small, fill=(110, 110, 110))
        y += 34
        strong = False
        for quoted, line in lines:
            x = MARGIN + 42
            if quoted:
                draw.rectangle((x, y - 2, x + 3, y + 22), fill=(200, 200, 200))
                x += 14
            if line.startswith("Sources:"):
                strong = True
            for index, part in enumerate(line.split("**")):
                if index:
                    strong = not strong
                font = bold if strong else body
                draw.text((x, y), part, font=font, fill=(30, 30, 30))
                x += draw.textlength(part, font=font)
            if line.startswith("Sources:"):
                strong = False
            y += 24
        y += 18
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)


def main(argv: list[str]) -> int:
    question = argv[0] if argv else QUESTION
    render(question, answer_markdown(answer(question)), OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
