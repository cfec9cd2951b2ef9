"""Chat commands (`/kb ...`), one file each, registered in one table; adapters only translate them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commands import add, approve, delete, gaps, preset, save, scope, stats, status, upload, visibility
from bot.commands import help as help_command
from bot.commands import list as list_command
from bot.commands.base import CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply, Upload

Command = Callable[[CommandRequest, CommandEnv, PostProgress], Awaitable[Reply]]

COMMANDS: dict[str, Command] = {
    "upload": upload.run,
    "add": add.run,
    "status": status.run,
    "list": list_command.run,
    "delete": delete.run,
    "scope": scope.run,
    "preset": preset.run,
    "help": help_command.run,
    "approve": approve.run,
    "gaps": gaps.run,
    "stats": stats.run,
    "save": save.run,
    "visibility": visibility.run,
}


def parse(text: str) -> tuple[str, str] | None:
    """`/kb <command> <args>` as (command, args); `/kb` alone is help; None when it is not a /kb command."""
    words = text.strip().split(maxsplit=2)
    if not words or words[0].split("@")[0].lower() not in ("/kb", "kb"):
        return None
    if len(words) == 1:
        return "help", ""
    return words[1].lower(), words[2] if len(words) > 2 else ""


async def run(name: str, request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    command = COMMANDS.get(name)
    if command is None:
        return Reply(f"There is no /kb {name}. Try /kb help.", private=True)
    return await command(request, env, post)


__all__ = ["COMMANDS", "CommandEnv", "CommandRequest", "PostProgress", "Reply", "Upload", "parse", "run"]
