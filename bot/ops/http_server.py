"""An aiohttp application served on a host and port, and the port it got (port 0 asks for any free
one): the health server, Slack's HTTP mode and Telegram's webhook all start their servers here."""

from __future__ import annotations

from aiohttp import web


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """The running server, and its bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    addresses = runner.addresses  # (host, port, ...) of each bound socket
    return runner, int(addresses[0][1]) if addresses else port
