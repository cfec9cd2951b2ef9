"""A real local HTTP server serving fixed pages, for URL ingestion and fetch-guard tests.

It binds 127.0.0.1 by default; `host="127.0.0.2"` gives a second loopback address (Linux routes
all of 127.0.0.0/8 to lo), which a test can allow as if it were a public host while 127.0.0.1
stays internal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# path -> (status, content type, body) or (status, content type, body, extra headers)
Pages = dict[str, tuple]


@contextmanager
def serve(pages: Pages, host: str = "127.0.0.1", hits: list[str] | None = None, *, port: int = 0,
          chunk: int = 0, drip_s: float = 0.0) -> Iterator[str]:
    """Serve `pages` (mutable: a test may change them while serving); yields the base URL.

    `hits` collects every path requested. With `chunk`, bodies go out `chunk` bytes at a time with
    no Content-Length (the connection's end ends them), `drip_s` apart.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            if hits is not None:
                hits.append(self.path)
            status, content_type, body, *rest = pages.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (rest[0] if rest else {}).items():
                self.send_header(name, value)
            if not chunk:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not chunk:
                self.wfile.write(body)
                return
            for start in range(0, len(body), chunk):
                try:
                    self.wfile.write(body[start:start + chunk])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                time.sleep(drip_s)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
