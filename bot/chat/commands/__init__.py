"""Chat commands (`/kb ...`): each declared once here (name, arguments, who may run it, help), its work
in a module of its own. `/kb help`, Discord's `/kb` command group and Telegram's command list are all
built from this table; adapters only translate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from bot.chat.commands import add, approve, delete, gaps, preset, save, scope, stats, status, upload, visibility
from bot.chat.commands import list as list_command
from bot.chat.commands.base import REFUSED_ADMIN, CommandEnv
from bot.core.periods import MAX_DAYS
from bot.core.requests import CommandRequest, PostProgress, Reply, Upload

Command = Callable[[CommandRequest, CommandEnv, PostProgress], Awaitable[Reply]]
# everyone; admins (of the chat, server or workspace); admins change it (everyone may look);
# kbot's own admins (the `admins` lists in its config)
Who = Literal["everyone", "admins", "admins change it", "kbot admins"]
OptionKind = Literal["text", "file", "job", "days", "choice"]


@dataclass(frozen=True)
class Option:
    """One argument, in the order `/kb NAME ARGS` takes them (Discord shows each as a typed option)."""

    name: str
    kind: OptionKind
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatCommand:
    name: str
    run: Command
    summary: str  # one line: Discord's description of the subcommand (at most 100 characters)
    help: str  # `/kb help`'s line
    usage: str = ""  # the arguments as `/kb help` shows them
    example: str = ""
    who: Who = "everyone"
    options: tuple[Option, ...] = ()


async def _help(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    return Reply(help_text(), private=True)


_DAYS = Option("days", "days", f"How many days back (1 to {MAX_DAYS})")
CHAT_COMMANDS: tuple[ChatCommand, ...] = (
    ChatCommand("upload", upload.run, "Index an attached file",
                'index a file: send the document with the caption "/kb upload" (or reply "/kb upload" to it)',
                options=(Option("file", "file", "The document to index", required=True),)),
    ChatCommand("add", add.run, "Fetch a web page and index it", "fetch a web page and index it", "<url>",
                "https://example.com/handbook.html",
                options=(Option("url", "text", "The page's address", required=True),)),
    ChatCommand("status", status.run, "Running and recent indexing jobs",
                "running and recent indexing jobs with their progress", "[job]",
                options=(Option("job", "job", "One job's number"),)),
    ChatCommand("list", list_command.run, "Documents answerable here",
                "documents answerable here, with chunks, uploader and when indexed"),
    ChatCommand("delete", delete.run, "Remove a document (admins)", "remove a document", "<document>",
                "handbook.pdf", who="admins",
                options=(Option("document", "text", "Its name, as /kb list shows it", required=True),)),
    ChatCommand("scope", scope.run, "Which knowledge this channel uses; admins switch parts off and on",
                "which knowledge this place answers from",
                options=(Option("knowledge", "choice", "The shared folder, or this workspace's uploads",
                                choices=("global", "workspace")),
                         Option("state", "choice", "Use it, or not", choices=("on", "off")))),
    ChatCommand("preset", preset.run, "How hard answers here search; admins choose fast, balanced or accurate",
                "how hard answers here search", "[fast|balanced|accurate]", "accurate", who="admins change it",
                options=(Option("choice", "choice", "The preset (default: the configured one)",
                                choices=("fast", "balanced", "accurate", "default")),)),
    ChatCommand("save", save.run, "Keep this thread as a document answerable here (run it in the thread)",
                "keep this thread (question, answer, replies) as a document answerable here; saving again "
                "replaces it"),
    ChatCommand("gaps", gaps.run, "Questions the documents could not answer well (admins: the whole server)",
                "what the documents could not answer, by topic (admins: the workspace)", "[days]", "30",
                options=(_DAYS,)),
    ChatCommand("stats", stats.run, "Questions, answered share, votes, new documents and the top gaps",
                "questions, answered share, 👍/👎, new documents and the top gaps", "[days]", "7",
                options=(_DAYS,)),
    ChatCommand("visibility", visibility.run, "Answers here for everyone, or to the asker first; admins choose",
                "answers here for everyone, or to the asker first", "[public|private_first]",
                who="admins change it",
                options=(Option("choice", "choice", "Who sees answers first (default: the configured way)",
                                choices=("public", "private_first", "default")),)),
    ChatCommand("approve", approve.run, "Let a new server or DM use kbot (kbot's own admins)",
                "let a new chat, server or workspace use kbot", "<code>", who="kbot admins",
                options=(Option("code", "text", "The code the new place was given", required=True),)),
    ChatCommand("help", _help, "What each command does", "this text"),
)
COMMANDS: dict[str, ChatCommand] = {command.name: command for command in CHAT_COMMANDS}
_WHO_IN_HELP = {"everyone": "", "admins": " (admins)", "admins change it": " (admins change it)",
                "kbot admins": " (kbot's own admins)"}


def help_text() -> str:
    lines = ["kbot answers questions from your team's documents. Knowledge commands:"]
    for command in CHAT_COMMANDS:
        usage = f" {command.usage}" if command.usage else ""
        example = f", e.g. /kb {command.name} {command.example}" if command.example else ""
        lines.append(f"/kb {command.name}{usage} — {command.help}{_WHO_IN_HELP[command.who]}{example}")
    lines.append("To ask, mention me or reply to one of my answers; answers cite their sources.")
    return "\n".join(lines)


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
    if command.who == "admins" and not request.incoming.is_admin:
        return Reply(REFUSED_ADMIN, private=True)
    if command.who == "kbot admins" and not request.incoming.operator:
        return Reply(approve.REFUSED, private=True)
    return await command.run(request, env, post)


__all__ = ["CHAT_COMMANDS", "COMMANDS", "ChatCommand", "CommandEnv", "CommandRequest", "Option", "PostProgress",
           "Reply", "Upload", "help_text", "parse", "run"]
