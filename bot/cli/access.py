"""`kbot approve`, `kbot access` and `kbot revoke`: which chats, servers and workspaces kbot answers."""

# Imports inside functions: each command imports what it runs when it runs, so `kbot --help` and a mistyped
# flag answer at once.

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING, Any

from bot.cli.errors import EXIT_OK, CliError
from bot.config import Settings

if TYPE_CHECKING:
    from bot.state.access import AccessControl


def add_parsers(commands: Any) -> None:
    approve = commands.add_parser("approve", help="let a new chat, server or workspace use kbot (its pairing code)")
    approve.add_argument("code", metavar="CODE|PLACE",
                         help="the code the place was shown, or a place such as telegram:-100123 or discord:GUILD_ID")
    approve.set_defaults(run=cmd_approve)

    access = commands.add_parser("access", help="who may use kbot: each platform's rule, approved places, "
                                                "waiting codes")
    access.set_defaults(run=cmd_access)

    revoke = commands.add_parser("revoke", help="withdraw an approval")
    revoke.add_argument("place", help="as `kbot access` shows it, e.g. telegram:-100123")
    revoke.set_defaults(run=cmd_revoke)


def _access(settings: Settings) -> AccessControl:
    from bot.app import App  # the database, opened only by the command that reads it

    return App(settings).access


def _place(settings: Settings, text: str) -> tuple[str, str]:
    platform, _, workspace = text.partition(":")
    if platform not in settings.platform_names or not workspace:
        raise CliError(f"{text!r} is not a place: write it as platform:id, e.g. telegram:-100123 (see `kbot access`)")
    return platform, workspace


def cmd_approve(settings: Settings, args: argparse.Namespace) -> int:
    access = _access(settings)
    who = f"cli:{getpass.getuser()}"
    if ":" in args.code:
        platform, workspace = _place(settings, args.code)
        access.grant(platform, workspace, who)
        print(f"approved {platform}:{workspace}")
        return EXIT_OK
    place = access.approve(args.code, who)
    if place is None:
        raise CliError(f"no place is waiting with the code {args.code} (see `kbot access`)")
    name = f" ({place.name})" if place.name and place.name != place.workspace else ""
    print(f"approved {place.platform}:{place.workspace}{name}")
    return EXIT_OK


def cmd_access(settings: Settings, args: argparse.Namespace) -> int:
    access = _access(settings)
    for platform in settings.platform_names:
        if settings.platform(platform).enabled:
            print(f"{access.describe(platform)} (enabled)")
        else:
            print(f"{platform}: disabled, so kbot answers nowhere there ({platform}.enabled: true connects it; "
                  f"its rule would be: {access.describe(platform).split(': ', 1)[1]})")
    approved, pending = access.approved(), access.pending()
    print(f"\napproved ({len(approved)}):")
    for place in approved:
        print(f"  {place.platform}:{place.workspace}  {place.name}  by {place.who}, {place.at:%Y-%m-%d %H:%M} UTC")
    print(f"\nwaiting for approval ({len(pending)}): approve with `kbot approve CODE`")
    for place in pending:
        print(f"  {place.code}  {place.platform}:{place.workspace}  {place.name}  asked by {place.who}, "
              f"{place.at:%Y-%m-%d %H:%M} UTC")
    return EXIT_OK


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    platform, workspace = _place(settings, args.place)
    if not _access(settings).revoke(platform, workspace):
        raise CliError(f"{args.place} was not approved in the database (places listed in config.yaml stay allowed)")
    print(f"revoked {args.place}: kbot no longer answers there")
    return EXIT_OK
