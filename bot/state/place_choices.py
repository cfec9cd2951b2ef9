"""Which shared knowledge each channel answers from, as its admins chose with `/kb scope`.

The scopes an asker may see still come from the verified event; this can only narrow them (drop
the global knowledge or the workspace's uploads), never add one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Select, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.messages import Incoming, ThreadKey
from bot.core.scopes import GLOBAL, workspace_scope
from bot.state.db import ChannelScopeRow


def _row_of(key: ThreadKey) -> Select[ChannelScopeRow]:
    return select(ChannelScopeRow).where(ChannelScopeRow.platform == key.platform,
                                         ChannelScopeRow.workspace == key.workspace,
                                         ChannelScopeRow.channel == key.channel)


@dataclass(frozen=True)
class ChannelChoice:
    use_global: bool = True
    use_workspace: bool = True
    preset: str | None = None  # the channel's retrieval preset; None: the configured one
    visibility: str | None = None  # public | private_first; None: the configured answer.visibility

    def apply(self, granted: frozenset[str], key: ThreadKey) -> frozenset[str]:
        """What an answer here may use: the scopes the event granted, less what the admins switched off."""
        dropped = set()
        if not self.use_global:
            dropped.add(GLOBAL)
        if not self.use_workspace:
            dropped.add(workspace_scope(key.platform, key.workspace))
        return granted - dropped


class ChannelScopes:
    """Read through on every message (one indexed row): a choice made in any process holds at once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def choice(self, key: ThreadKey) -> ChannelChoice:
        with Session(self.engine) as session:
            row = session.scalar(_row_of(key))
        return ChannelChoice(row.use_global, row.use_workspace, row.preset, row.visibility) if row else ChannelChoice()

    def choose(self, key: ThreadKey, who: str, *, use_global: bool | None = None,
               use_workspace: bool | None = None, preset: str | None = None,
               visibility: str | None = None) -> ChannelChoice:
        with Session(self.engine) as session, session.begin():
            row = session.scalar(_row_of(key))
            if row is None:
                row = ChannelScopeRow(platform=key.platform, workspace=key.workspace, channel=key.channel)
                try:
                    with session.begin_nested():
                        session.add(row)
                except IntegrityError:  # another process made it first
                    row = session.scalar(_row_of(key))
                    assert row is not None
            if use_global is not None:
                row.use_global = use_global
            if use_workspace is not None:
                row.use_workspace = use_workspace
            if preset is not None:  # "" : back to the configured preset
                row.preset = preset or None
            if visibility is not None:  # "" : back to the configured visibility
                row.visibility = visibility or None
            row.changed_by = who
            return ChannelChoice(row.use_global, row.use_workspace, row.preset, row.visibility)

    def narrow(self, incoming: Incoming) -> Incoming:
        """The incoming message with the scopes this channel's admins switched off removed, and the
        channel's preset (unless the question chose its own, as `kbot ask --preset` does)."""
        choice = self.choice(incoming.key)
        scopes = choice.apply(incoming.granted, incoming.key)
        preset = incoming.preset or choice.preset or ""
        visibility = choice.visibility or ""
        if scopes == incoming.scopes and preset == incoming.preset and visibility == incoming.visibility:
            return incoming
        return replace(incoming, scopes=scopes, preset=preset, visibility=visibility)
