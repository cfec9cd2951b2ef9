"""Telegram webhook mode: kbot's own receiver (aiohttp), so that it never runs unauthenticated.

Telegram repeats the secret given to `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`; anything
without it is refused (403, compared in constant time) and a body that is not an update gets 400.
With no `telegram.webhook_secret` configured, the secret is derived from the bot token, so every
process sharing the token (and the webhook URL) agrees on it without storing one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.ops.http_server import start_site

log = logging.getLogger("kbot.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def derived_secret(token: str) -> str:
    """256 bits, from Telegram's allowed alphabet; unguessable without the token itself."""
    return hmac.new(token.encode(), b"kbot telegram webhook secret v1", hashlib.sha256).hexdigest()


class WebhookReceiver:
    """POSTs to `path` become updates on the application's queue, after the secret is checked."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], secret: str, host: str, port: int,
                 path: str) -> None:
        self.app = app
        self._secret = secret.encode()
        self.host = host
        self.requested_port = port
        self.path = "/" + path.lstrip("/")
        self.port: int | None = None
        self.accepting = False
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        web_app = web.Application(client_max_size=4 * 1024 * 1024)
        web_app.router.add_post(self.path, self._on_post)
        self._runner, self.port = await start_site(web_app, self.host, self.requested_port, "telegram.webhook_port")
        self.accepting = True

    async def stop(self) -> None:
        self.accepting = False
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="forbidden")
        if not self.accepting:
            return web.Response(status=503, text="kbot is restarting")
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except Exception:  # any malformed body is the sender's fault
            return web.Response(status=400, text="not a Telegram update")
        await self.app.update_queue.put(update)
        return web.Response(status=200)
