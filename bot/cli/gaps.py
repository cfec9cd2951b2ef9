"""`kbot gaps` and `kbot stats`: the coverage-gap report of `/kb gaps` and `/kb stats`, for every place
(or one platform, workspace or channel), as text or JSON."""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.errors import EXIT_OK
from bot.config import Settings
from bot.core.periods import MAX_DAYS

if TYPE_CHECKING:
    from bot.insights.gaps import Area



def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"a whole number of days from 1 to {MAX_DAYS}")
    return int(text)


def _area_arguments(parser: argparse.ArgumentParser, default_days: int) -> None:
    parser.add_argument("--days", type=_days, default=default_days, metavar="N",
                        help=f"how far back (default: {default_days})")
    parser.add_argument("--place", default=None, metavar="PLATFORM[:WORKSPACE[:CHANNEL]]",
                        help="only there, e.g. slack:T0123 or discord:GUILD:CHANNEL (default: every place)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_parsers(commands: Any) -> None:
    gaps = commands.add_parser(
        "gaps", help="questions the knowledge base could not answer well, grouped by topic",
        description="Questions that found nothing, got only weak sources, or got a 👎, grouped by meaning "
                    "with the store's embeddings, most asked first (question text is stored redacted).")
    _area_arguments(gaps, 30)
    gaps.set_defaults(run=cmd_gaps)
    stats = commands.add_parser("stats", help="questions, answered share, 👍/👎, new documents and the top gaps")
    _area_arguments(stats, 7)
    stats.set_defaults(run=cmd_stats)


def area_of(place: str | None) -> Area:
    from bot.insights.gaps import Area

    if not place:
        return Area()
    parts = (place.split(":", 2) + [None, None])[:3]
    return Area(*(part or None for part in parts))


def cmd_gaps(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.insights.reports import gap_report

    app = App(settings, terminal=True)
    report = gap_report(app.gaps, app.knowledge_base, area_of(args.place), args.days)
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if args.json else report.text(limit=50))
    _warn_if_off(settings)
    return EXIT_OK


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.insights.reports import stats_report

    app = App(settings, terminal=True)
    report = stats_report(app.gaps, app.knowledge_base, area_of(args.place), args.days, None)
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if args.json else report.text())
    _warn_if_off(settings)
    return EXIT_OK


def _warn_if_off(settings: Settings) -> None:
    if not settings.analytics.enabled:
        print("kbot: note: analytics.enabled is false, so no new gaps are recorded", file=sys.stderr)
