"""`kbot run`'s operations endpoints: /healthz (alive), /readyz (dependencies), /metrics (Prometheus)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.ops.http_server import start_site
from bot.ops.metrics import Metrics

log = logging.getLogger("kbot.ops")

Check = Callable[[], Awaitable[bool]]  # each runs with a deadline; an exception counts as not ready


class OpsServer:
    def __init__(self, host: str, port: int, metrics: Metrics, checks: dict[str, Check], timeout_s: float = 3) -> None:
        self.host = host
        self.requested_port = port
        self.metrics = metrics
        self.checks = checks
        self.timeout_s = timeout_s
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        self._runner, self.port = await start_site(self._app(), self.host, self.requested_port, "server.port")
        log.info("health and metrics on http://%s:%s (/healthz /readyz /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _run_check(self, check: Check) -> bool:
        try:
            return bool(await asyncio.wait_for(check(), self.timeout_s))
        except Exception:
            return False

    async def _readyz(self, _request: web.Request) -> web.Response:
        names = list(self.checks)
        results = await asyncio.gather(*(self._run_check(self.checks[n]) for n in names))
        status = dict(zip(names, results, strict=True))
        ready = all(results)
        return web.Response(status=200 if ready else 503, content_type="application/json",
                            text=json.dumps({"ready": ready, "checks": status}))

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
