"""Final-message formatting per platform, from the Markdown-ish text the answer engine writes.

Only final messages are formatted (half-written markup never reaches a chat), and every
outgoing text has its mass mentions defused.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.chat.streaming import WRITING_MARK
from bot.core.messages import Answer

_MASS_MENTION = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_FENCE = re.compile(r"```(?:[\w+-]*\n)?(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_PLACEHOLDER = "\x00{}\x00"


def sources_lines(answer: Answer) -> list[str]:
    """`[1] Handbook, p. 2, Vacation — https://…`, one line per cited source."""
    return [f"[{s.number}] {s.label()}" + (f" — {s.url}" if s.url else "") for s in answer.sources]


def answer_markdown(answer: Answer) -> str:
    """The answer and its sources as one Markdown-ish text, for ports that render text (not blocks)."""
    lines = sources_lines(answer)
    return f"{answer.text}\n\nSources:\n" + "\n".join(lines) if lines else answer.text


def writing(text: str) -> str:
    """Intermediate text as shown while the answer is still being written."""
    return text + WRITING_MARK


def defuse_mentions(text: str) -> str:
    """@everyone / @here / @channel no longer ping anybody (a zero-width space follows the @)."""
    return _MASS_MENTION.sub("@\u200b\\1", text)


def _protect_code(text: str, render_fence: Callable[[str], str],
                  render_code: Callable[[str], str]) -> tuple[str, list[str]]:
    """Code is rendered first and kept out of reach of the other rules."""
    kept: list[str] = []

    def keep(rendered: str) -> str:
        kept.append(rendered)
        return _PLACEHOLDER.format(len(kept) - 1)

    text = _FENCE.sub(lambda m: keep(render_fence(m.group(1))), text)
    text = _CODE.sub(lambda m: keep(render_code(m.group(1))), text)
    return text, kept


def _restore(text: str, kept: list[str]) -> str:
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)


def slack_escape(text: str) -> str:
    """Slack's three control characters; this also neutralises <!here>-style mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _render(markdown: str, *, escape: Callable[[str], str], fence: Callable[[str], str],
            code: Callable[[str], str], link: Callable[[str, str], str], strong: str) -> str:
    """Markdown to a platform's markup: code kept verbatim, links built whole, the rest escaped."""
    text, kept = _protect_code(defuse_mentions(markdown), fence, code)
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(link(match.group(1), match.group(2)))
        return f"\x01{len(links) - 1}\x01"

    text = escape(_LINK.sub(keep_link, text))
    text = _HEADING.sub(strong, text)
    text = _BOLD.sub(strong, text)
    text = re.sub("\x01(\\d+)\x01", lambda m: links[int(m.group(1))], text)
    return _restore(text, kept)


def to_slack_mrkdwn(markdown: str) -> str:
    return _render(markdown, escape=slack_escape, fence=lambda c: f"```{slack_escape(c)}```",
                   code=lambda c: f"`{slack_escape(c)}`",
                   link=lambda label, url: f"<{url}|{slack_escape(label).replace('|', '¦')}>", strong=r"*\1*")


def to_telegram_html(markdown: str) -> str:
    """Telegram's HTML subset; every tag opened here is closed in the same part."""
    return _render(markdown, escape=lambda t: html.escape(t, quote=False),
                   fence=lambda c: f"<pre>{html.escape(c, quote=False)}</pre>",
                   code=lambda c: f"<code>{html.escape(c, quote=False)}</code>",
                   link=lambda label, url: f'<a href="{html.escape(url)}">{html.escape(label, quote=False)}</a>',
                   strong=r"<b>\1</b>")


def to_discord_markdown(markdown: str) -> str:
    """Discord renders Markdown itself; embeds are suppressed on send, mentions by allowed_mentions."""
    return defuse_mentions(markdown)
