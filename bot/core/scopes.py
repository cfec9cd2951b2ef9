"""Knowledge scopes, derived from where a verified event happened (never from message text).

`global` is the shared `knowledge/`; a workspace (Slack team, Discord guild, Telegram chat) has its
own scope, and a private channel has one more that only it can see.
"""

from __future__ import annotations

GLOBAL = "global"


def workspace_scope(platform: str, workspace: str) -> str:
    return f"{platform}:{workspace}"


def channel_scope(platform: str, workspace: str, channel: str) -> str:
    return f"{platform}:{workspace}:{channel}"


def visible_scopes(platform: str, workspace: str, channel: str | None = None, private: bool = False) -> frozenset[str]:
    """What an asker here may retrieve: global, the workspace, and a private channel's own scope."""
    scopes = {GLOBAL, workspace_scope(platform, workspace)}
    if private and channel is not None:
        scopes.add(channel_scope(platform, workspace, channel))
    return frozenset(scopes)


def in_private_place(scopes: frozenset[str] | set[str]) -> bool:
    """Whether an asker with these (verified) scopes is in a place only some can see: a private channel
    or thread has a scope of its own, which no one outside it is granted. (A DM is a workspace of
    its own on Discord and Telegram, and a private channel's on Slack.)"""
    return any(parse_scope(scope)[2] is not None for scope in scopes)


def parse_scope(scope: str) -> tuple[str, str | None, str | None]:
    """(platform, workspace, channel) of a scope; `global` is ("global", None, None).

    A Discord DM's workspace is `dm:<user>` (its scope `discord:dm:<user>`), the one workspace
    name with a colon in it.
    """
    if scope == GLOBAL:
        return GLOBAL, None, None
    platform, _, rest = scope.partition(":")
    if rest.startswith("dm:"):
        return platform, rest, None
    workspace, _, channel = rest.partition(":")
    return platform, workspace, channel or None


def upload_scope(platform: str, workspace: str, channel: str, private: bool, public_uploads: str) -> str:
    """Where a document uploaded here lands: a private channel or DM keeps it to itself; a public
    channel gives it to the whole workspace, or keeps it too with `jobs.public_uploads: channel`."""
    own = private or public_uploads == "channel"
    return channel_scope(platform, workspace, channel) if own else workspace_scope(platform, workspace)
