"""Promise: a URL a chat user gives can only lead kbot to public addresses, at every hop, every time.

127.0.0.2 plays the public internet (allowed by `jobs.private_url_allowlist`, as an admin would
allow an intranet wiki); 127.0.0.1 is the internal network an attacker wants to reach.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import build_indexer, build_knowledge_base
from bot.jobs.resync import Resync
from bot.rag.knowledge_base import source_filter
from bot.rag.parsing.addresses import AddressPolicy, BlockedAddress, why_internal
from bot.rag.parsing.types import ParseError
from bot.rag.parsing.url import UrlFetcher
from bot.wiring import url_policy
from tests.fakes.http_site import serve
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.support.bots import eventually, knowledge_bot, platform_settings, running_bot

PUBLIC = "127.0.0.2"
SECRET = b"<html><body><h1>Internal</h1><p>The admin password is SWORDFISH-7.</p></body></html>"
PAGE = b"<html><body><h1>Handbook</h1><p>Lunch is served from noon in the cafeteria.</p></body></html>"
MB = 1_000_000


def _guarded(**kwargs: object) -> UrlFetcher:
    return UrlFetcher(AddressPolicy.from_allowlist([f"{PUBLIC}/32"], **kwargs))  # type: ignore[arg-type]


def _fetch(fetcher: UrlFetcher, url: str, max_bytes: int = MB, timeout_s: float = 5) -> bytes:
    return fetcher.fetch(url, max_bytes, timeout_s).data


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.251", "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "ff02::1",
])
def test_every_kind_of_internal_address_is_refused(address: str) -> None:
    import ipaddress

    assert why_internal(ipaddress.ip_address(address)) is not None
    policy = AddressPolicy(resolver=lambda host, port: [address])
    with pytest.raises(BlockedAddress, match="private or local network"):
        policy.resolve("innocent.example", 80)


def test_public_addresses_pass() -> None:
    import ipaddress

    for address in ("93.184.215.14", "8.8.8.8", "2606:4700::6810:85e5"):
        assert why_internal(ipaddress.ip_address(address)) is None


def test_a_name_with_one_private_answer_among_public_ones_is_refused() -> None:
    policy = AddressPolicy(resolver=lambda host, port: ["93.184.215.14", "10.0.0.5"])
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.5"):
        policy.resolve("mixed.example", 443)


def test_a_redirect_to_an_internal_address_is_refused_at_that_hop() -> None:
    hits: list[str] = []
    with serve({"/secret": (200, "text/html", SECRET)}, hits=hits) as internal:
        pages = {"/go": (302, "text/plain", b"", {"Location": f"{internal}/secret"})}
        with serve(pages, host=PUBLIC) as public:
            with pytest.raises(ParseError, match="127.0.0.1 is on a private or local network"):
                _fetch(_guarded(), f"{public}/go")
            assert _fetch(UrlFetcher(), f"{public}/go") == SECRET  # the operator's own CLI is not guarded
    assert hits == ["/secret"]  # only the unguarded fetch reached it


def test_the_connection_goes_to_the_address_that_was_checked(tmp_path: Path) -> None:
    """DNS rebinding: the second answer for the name is internal; kbot never asks twice per connection."""
    answers = [[PUBLIC], ["127.0.0.1"], ["127.0.0.1"]]
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked) - 1, 2)]

    hits: list[str] = []
    with serve({"/": (200, "text/html", PAGE)}, host=PUBLIC) as public:
        port = int(public.rsplit(":", 1)[1])
        with serve({"/": (200, "text/html", SECRET)}, hits=hits, port=port):  # 127.0.0.1, the same port
            fetcher = UrlFetcher(AddressPolicy.from_allowlist([f"{PUBLIC}/32"], resolver=resolver))
            assert _fetch(fetcher, f"http://rebind.example:{port}/") == PAGE
    assert asked == ["rebind.example"] and hits == []


def test_redirects_are_bounded() -> None:
    pages = {f"/r{i}": (302, "text/plain", b"", {"Location": f"/r{i + 1}"}) for i in range(10)}
    with serve(pages, host=PUBLIC) as public, pytest.raises(ParseError, match="more than 5 redirects"):
        _fetch(_guarded(), f"{public}/r0")


def test_the_size_cap_holds_while_the_body_streams() -> None:
    body = b"<p>" + b"x" * (3 * MB) + b"</p>"
    with (serve({"/big": (200, "text/html", body)}, host=PUBLIC, chunk=64 * 1024) as public,  # no Content-Length
          pytest.raises(ParseError, match=r"too large \(over 1\.0 MB")):
        _fetch(_guarded(), f"{public}/big")


def test_a_dribbling_server_cannot_hold_a_worker_past_the_deadline() -> None:
    with (serve({"/slow": (200, "text/html", PAGE * 4)}, host=PUBLIC, chunk=1, drip_s=0.05) as public,
          pytest.raises(ParseError, match="took longer than 1 s")):
        _fetch(_guarded(), f"{public}/slow", timeout_s=1)


def test_a_proxy_from_the_environment_is_not_a_way_around_the_check(monkeypatch) -> None:
    proxied: list[str] = []
    with serve({}, hits=proxied) as proxy, serve({"/": (200, "text/html", PAGE)}, host=PUBLIC) as public:
        for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(variable, proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert _fetch(_guarded(), f"{public}/") == PAGE
    assert proxied == []


def test_re_sync_of_a_url_added_from_chat_is_guarded_too(make_settings) -> None:
    """The page was public when it was added; later it redirects inside. Re-sync refuses, keeps the old text."""
    hits: list[str] = []
    settings = make_settings(jobs={"private_url_allowlist": [PUBLIC]})
    kb = build_knowledge_base(settings)
    indexer = build_indexer(settings, kb, for_chat=True)
    with serve({"/secret": (200, "text/html", SECRET)}, hits=hits) as internal:
        pages = {"/page": (200, "text/html", PAGE)}
        with serve(pages, host=PUBLIC) as public:
            url = f"{public}/page"
            assert indexer.index_url(url, "telegram:-100", "5").status == "indexed"
            from sqlalchemy.orm import Session

            from bot.jobs.queue import JobQueue
            from bot.state.db import JobRow
            from bot.state.engine import make_engine

            queue = JobQueue(make_engine(None, settings.data_path), indexer)
            with Session(queue.engine) as session, session.begin():  # what `/kb add` leaves behind
                session.add(JobRow(kind="url", source=url, scope="telegram:-100", uploader="5", location=url,
                                   state="done", target={}))
            pages["/page"] = (302, "text/plain", b"", {"Location": f"{internal}/secret"})
            counts = Resync(indexer, queue, [], settings.root)()
    assert counts == {"failed": 1} and hits == []
    texts = [d.content for d in kb.backend.document_store.filter_documents(source_filter(url, ["telegram:-100"]))]
    assert texts and all("SWORDFISH" not in t for t in texts) and any("Lunch" in t for t in texts)


def test_kb_add_through_a_redirect_to_an_internal_page_fails_with_its_reason(make_settings, llm) -> None:
    hits: list[str] = []
    with FakeTelegram() as tg, serve({"/secret": (200, "text/html", SECRET)}, hits=hits) as internal:
        pages = {"/go": (302, "text/plain", b"", {"Location": f"{internal}/secret"})}
        with serve(pages, host=PUBLIC) as public:
            settings = platform_settings(make_settings, llm, telegram={
                "enabled": True, "token": TOKEN, "base_url": tg.api_base, "base_file_url": tg.file_base},
                jobs={"private_url_allowlist": [PUBLIC]})
            assert url_policy(settings).check_host(PUBLIC) is None
            app = knowledge_bot(settings, {})

            async def scenario() -> None:
                async with running_bot(app) as running:
                    sent = tg.user_message(-100777, f"/kb add {public}/go", chat_type="supergroup")
                    ended = await eventually(lambda: [m for m in tg.bot_messages(-100777)
                                                      if m.reply_to == sent["message"]["message_id"]
                                                      and m.text.startswith("✗")], timeout=30, what="the failure")
                    assert "127.0.0.1 is on a private or local network" in ended[0].text
                    stored = running.service.conversation.knowledge_base.backend.document_store.filter_documents()
                    assert all("SWORDFISH" not in (d.content or "") for d in stored)

            asyncio.run(scenario())
    assert hits == [] and all("SWORDFISH" not in str(r) for r in llm.chat_requests)
