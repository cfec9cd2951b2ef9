"""An aiohttp application served on a host and port, and the port it got (port 0 asks for any free
one): the health server, Slack's HTTP mode and Telegram's webhook all start their servers here."""

from __future__ import annotations

from aiohttp import web

from bot.core.start_errors import CannotStart, port_in_use


async def start_site(app: web.Application, host: str, port: int, setting: str) -> tuple[web.AppRunner, int]:
    """The running server, and its bound port. A port already taken is a CannotStart that names
    `setting`, the config key that chooses it."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        if port_in_use(exc):
            raise CannotStart(f"port {port} on {host} is already in use: stop what holds it, or choose another "
                              f"port with {setting}", setting) from None
        raise CannotStart(f"cannot listen on {host}:{port} ({exc.strerror or exc}): check {setting} and the host",
                          setting) from None
    addresses = runner.addresses  # (host, port, ...) of each bound socket
    return runner, int(addresses[0][1]) if addresses else port
