"""`/kb help`: what each command does, with examples."""

from __future__ import annotations

from bot.commands.base import CommandEnv
from bot.core.requests import CommandRequest, PostProgress, Reply

HELP = """kbot answers questions from your team's documents. Knowledge commands:
/kb upload — index a file: send the document with the caption "/kb upload" (or reply "/kb upload" to it)
/kb add <url> — fetch a web page and index it, e.g. /kb add https://example.com/handbook.html
/kb status [job] — running and recent indexing jobs with their progress
/kb list — documents answerable here, with chunks, uploader and when indexed
/kb delete <document> — remove a document (admins), e.g. /kb delete handbook.pdf
/kb scope — which knowledge this place answers from
/kb preset [fast|balanced|accurate] — how hard answers here search (admins change it), e.g. /kb preset accurate
/kb save — keep this thread (question, answer, replies) as a document answerable here; saving again replaces it
/kb gaps [days] — what the documents could not answer, by topic (admins: the workspace), e.g. /kb gaps 30
/kb stats [days] — questions, answered share, 👍/👎, new documents and the top gaps, e.g. /kb stats 7
/kb visibility [public|private_first] — answers here for everyone, or to the asker first (admins change it)
/kb approve <code> — let a new chat, server or workspace use kbot (kbot's own admins)
/kb help — this text
To ask, mention me or reply to one of my answers; answers cite their sources."""


async def run(request: CommandRequest, env: CommandEnv, post: PostProgress) -> Reply:
    return Reply(HELP, private=True)
