"""The digest's chart, drawn offline with Pillow: questions per day (bars, the answered part solid),
the answered share (a line), and 👍/👎 per day (small bars) — a trend people can take in at a glance."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont

from bot.insights.gaps import Figures

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 60, 60, 50, 80
ASKED, ANSWERED, SHARE, UP, DOWN, GRID, INK = (
    "#c9d6e8", "#3b6fb6", "#e07b22", "#3a9a5b", "#c0392b", "#e6e6e6", "#222222")


def activity_chart(days: list[tuple[datetime, Figures]], title: str) -> bytes:
    """A PNG of `days` (oldest first)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=16), ImageFont.load_default(size=12)
    draw.text((LEFT, 14), title.replace("—", "-"), fill=INK, font=font)  # the bundled font has no dashes
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    most = max([f.questions for _, f in days] + [1])
    for step in range(5):  # grid lines with the question counts they mark
        y = base - plot_h * step / 4
        draw.line((LEFT, y, LEFT + plot_w, y), fill=GRID)
        draw.text((8, y - 7), f"{most * step / 4:.0f}", fill=INK, font=small)
        draw.text((LEFT + plot_w + 8, y - 7), f"{step * 25}%", fill=SHARE, font=small)
    slot = plot_w / max(len(days), 1)
    points: list[tuple[float, float]] = []
    for index, (day, figures) in enumerate(days):
        x0 = LEFT + index * slot + slot * 0.15
        x1 = x0 + slot * 0.5
        asked_h = plot_h * figures.questions / most
        answered_h = plot_h * figures.answered / most
        if figures.questions:
            draw.rectangle((x0, base - asked_h, x1, base), fill=ASKED)
            draw.rectangle((x0, base - answered_h, x1, base), fill=ANSWERED)
            points.append(((x0 + x1) / 2, base - plot_h * figures.answered / figures.questions))
        vx = x1 + slot * 0.05
        votes = max(figures.thumbs_up, figures.thumbs_down, 1)
        scale = min(plot_h * 0.25 / votes, 12)
        draw.rectangle((vx, base - figures.thumbs_up * scale, vx + slot * 0.1, base), fill=UP)
        draw.rectangle((vx + slot * 0.1, base - figures.thumbs_down * scale, vx + slot * 0.2, base), fill=DOWN)
        if len(days) <= 14 or index % max(len(days) // 10, 1) == 0:
            draw.text((x0, base + 6), f"{day:%m-%d}", fill=INK, font=small)
    if len(points) > 1:
        draw.line(points, fill=SHARE, width=3)
    for x, y in points:
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=SHARE)
    legend = [(ASKED, "questions"), (ANSWERED, "answered from sources"), (SHARE, "answered share"),
              (UP, "votes up"), (DOWN, "votes down")]
    x = LEFT
    for color, label in legend:
        draw.rectangle((x, HEIGHT - 30, x + 14, HEIGHT - 16), fill=color)
        draw.text((x + 20, HEIGHT - 32), label, fill=INK, font=small)
        x += 40 + 8 * len(label)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
