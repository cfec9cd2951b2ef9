"""What people are shown is made safe once, where it enters: names and links.

- A name (an uploaded file's, a document's title) is one line of at most 200 characters, with no
  control characters (a NUL breaks PostgreSQL, a newline fakes a second line in `/kb list`) and no
  invisible formatting characters (a right-to-left override turns `invoice<RLO>dm.exe.md` into
  "invoicedm.exe.md" reversed on screen, an executable's name).
- A link in an answer is shown only when it appears in the cited sources or in the question; any
  other (a model talked into printing `http://evil.example/login` by a document's hidden text) is
  defanged: `hxxp://evil[.]example/login`, not clickable, still readable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_NAME_CHARS = 200
URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]{}\"'`]+", re.IGNORECASE)
MARKDOWN_LINK = re.compile(r"\[([^\]\n]{0,300})\]\((\s*(?:https?|ftp)://[^)\s]+)\s*\)", re.IGNORECASE)
_TRAILING = ".,;:!?"


def safe_name(name: str, fallback: str = "upload") -> str:
    """One visible line of at most 200 characters (the extension kept when it is cut)."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(" " if unicodedata.category(c) in ("Zl", "Zp") or c in "\t\n\r\v\f" else c for c in text)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = " ".join(text.split())
    if len(text) > MAX_NAME_CHARS:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= 10:
            text = stem[: MAX_NAME_CHARS - len(extension) - 2] + "…." + extension
        else:
            text = text[: MAX_NAME_CHARS - 1] + "…"
    return text or fallback


def _url_key(url: str) -> str:
    return url.rstrip(_TRAILING).rstrip("/").lower()


def known_links(texts: Iterable[str | None]) -> set[str]:
    """Every link in these texts (sources, the question), as `keep_known_links` compares them."""
    return {_url_key(found) for text in texts if text for found in URL.findall(text)}


def defang(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower().replace('t', 'x')}://{host.replace('.', '[.]')}{slash}{path}"


def keep_known_links(text: str, known: set[str]) -> str:
    """The text with every link not in `known` defanged (a Markdown link becomes its words and the
    defanged address)."""
    def markdown(match: re.Match[str]) -> str:
        words, url = match.group(1), match.group(2).strip()
        return match.group() if _url_key(url) in known else f"{words} ({defang(url)})"

    def bare(match: re.Match[str]) -> str:
        url = match.group()
        core = url.rstrip(_TRAILING)
        return url if _url_key(core) in known else defang(core) + url[len(core):]

    text = MARKDOWN_LINK.sub(markdown, text)
    # Links the Markdown pass kept stay as they are; the rest are looked at one by one.
    return URL.sub(bare, text)
