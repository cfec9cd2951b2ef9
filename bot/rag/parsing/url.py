"""Fetch an http(s) URL through one guarded path: checked addresses, bounded redirects, a size cap
enforced while the body streams, one overall deadline. Failures become one-line reasons.

Every TCP connection is opened by `_GuardedBackend`, which resolves the host once, checks every
address against the `AddressPolicy` and connects to a checked address; so each redirect hop, and
any connection httpx opens on its own, is checked the same way. Proxies from the environment are
ignored when the policy is guarded: a proxy would make the connection for us, out of reach of the check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpcore
import httpx

from bot.rag.parsing.addresses import OPEN_POLICY, AddressPolicy, BlockedAddress
from bot.rag.parsing.types import ParseError

MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "kbot/0.1 (+knowledge bot indexer)"


@dataclass(frozen=True)
class Fetched:
    url: str
    data: bytes
    content_type: str


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's own sync backend, connecting only to addresses the policy let through."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: object = None) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.resolve(host, port)  # raises BlockedAddress; resolved once, here
        except OSError as exc:  # the name does not resolve
            raise httpcore.ConnectError(f"getaddrinfo: {exc}") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)  # type: ignore[arg-type]  # httpcore types options as Iterable
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address for {host}")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx keeps its connection pool here; this one differs only in who opens the sockets.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                             network_backend=_GuardedBackend(policy))


class UrlFetcher:
    """One way to fetch a page: `guarded` for anything a chat user asked for, open for the operator's CLI."""

    def __init__(self, policy: AddressPolicy = OPEN_POLICY, max_redirects: int = MAX_REDIRECTS) -> None:
        self.policy = policy
        self.max_redirects = max_redirects

    @property
    def guarded(self) -> bool:
        return self.policy != OPEN_POLICY

    def _client(self, timeout_s: float) -> httpx.Client:
        headers = {"User-Agent": USER_AGENT}
        if not self.guarded:
            return httpx.Client(follow_redirects=False, timeout=timeout_s, headers=headers)
        return httpx.Client(follow_redirects=False, timeout=timeout_s, headers=headers, trust_env=False,
                            transport=_GuardedTransport(self.policy))

    def fetch(self, url: str, max_bytes: int, timeout_s: float) -> Fetched:
        """The body of `url` after at most `max_redirects` redirects, each hop checked; ParseError otherwise."""
        deadline = time.monotonic() + timeout_s
        try:
            with self._client(timeout_s) as client:
                for _hop in range(self.max_redirects + 1):
                    with client.stream("GET", url) as response:
                        if response.status_code in _REDIRECTS and response.headers.get("location"):
                            url = str(response.url.join(response.headers["location"]))
                            if not is_url(url):
                                raise ParseError("the page redirects to something that is not an http(s) URL")
                            continue
                        return _read(response, max_bytes, deadline, timeout_s)
            raise ParseError(f"unreachable URL (more than {self.max_redirects} redirects)")
        except BlockedAddress as exc:
            raise ParseError(str(exc)) from None
        except httpx.ConnectTimeout:
            raise ParseError(f"unreachable URL (no connection within {timeout_s:g} s)") from None
        except httpx.TimeoutException:
            raise ParseError(f"unreachable URL (no answer within {timeout_s:g} s)") from None
        except httpx.ConnectError as exc:
            raise ParseError(f"unreachable URL ({_connect_reason(exc)})") from None
        except httpx.HTTPError as exc:
            raise ParseError(f"unreachable URL ({exc.__class__.__name__})") from None


def _read(response: httpx.Response, max_bytes: int, deadline: float, timeout_s: float) -> Fetched:
    if response.status_code >= 400:
        raise ParseError(f"the server answered HTTP {response.status_code} {response.reason_phrase}")
    declared = response.headers.get("content-length") or "0"
    if declared.isdigit() and int(declared) > max_bytes:
        raise ParseError(too_large(int(declared), max_bytes))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # decoded (gunzipped) bytes: the cap holds for what is kept
        size += len(chunk)
        if size > max_bytes:
            raise ParseError(too_large(size, max_bytes, at_least=True))
        if time.monotonic() > deadline:  # a server dribbling bytes cannot hold a worker forever
            raise ParseError(f"unreachable URL (the page took longer than {timeout_s:g} s to arrive)")
        chunks.append(chunk)
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return Fetched(url=str(response.url), data=b"".join(chunks), content_type=content_type)


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
