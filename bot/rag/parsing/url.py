"""Fetch an http(s) URL with a size cap and a timeout; failures become one-line reasons."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bot.rag.parsing.types import ParseError


@dataclass(frozen=True)
class Fetched:
    url: str
    data: bytes
    content_type: str


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def fetch(url: str, max_bytes: int, timeout_s: float) -> Fetched:
    headers = {"User-Agent": "kbot/0.1 (+knowledge bot indexer)"}
    try:
        with (
            httpx.Client(follow_redirects=True, timeout=timeout_s, headers=headers) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise ParseError(f"the server answered HTTP {response.status_code} {response.reason_phrase}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise ParseError(too_large(declared, max_bytes))
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ParseError(too_large(size, max_bytes, at_least=True))
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            return Fetched(url=str(response.url), data=b"".join(chunks), content_type=content_type)
    except httpx.ConnectTimeout:
        raise ParseError(f"unreachable URL (no connection within {timeout_s:g} s)") from None
    except httpx.TimeoutException:
        raise ParseError(f"unreachable URL (no answer within {timeout_s:g} s)") from None
    except httpx.ConnectError as exc:
        raise ParseError(f"unreachable URL ({_connect_reason(exc)})") from None
    except httpx.TooManyRedirects:
        raise ParseError("unreachable URL (too many redirects)") from None
    except httpx.HTTPError as exc:
        raise ParseError(f"unreachable URL ({exc.__class__.__name__})") from None


def _connect_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "resolution" in text or "getaddrinfo" in text:
        return "host not found"
    return "could not connect"


def too_large(size: int, limit: int, at_least: bool = False) -> str:
    """The one wording of the size refusal, for files, uploads and downloads alike."""
    more = "over " if at_least else ""
    return f"too large ({more}{size / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB, knowledge.max_file_mb)"
