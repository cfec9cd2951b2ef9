"""A real local OpenAI-compatible server (127.0.0.1) for embeddings; the real `openai` client talks to it.

Vectors are deterministic bags of hashed words, so texts sharing words are close.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIM = 256


def fake_embedding(text: str, dim: int = DIM) -> list[float]:
    vector = [0.0] * dim
    for word in text.lower().split():
        slot = int(hashlib.md5(word.strip(".,?!").encode()).hexdigest(), 16) % dim
        vector[slot] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


@dataclass
class FakeOpenAI:
    base_url: str = ""
    embedding_batches: list[int] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    # Faults and hooks a test sets: an HTTP status to answer embeddings with, and a call made
    # (in the server thread) before each embeddings answer.
    fail_embeddings_with: int | None = None
    before_embedding: Callable[[], None] | None = None


@contextmanager
def serve_openai() -> Iterator[FakeOpenAI]:
    state = FakeOpenAI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            state.auth_headers.append(self.headers.get("Authorization", ""))
            if self.path.rstrip("/").endswith("/embeddings") and state.fail_embeddings_with:
                self._send(state.fail_embeddings_with, {"error": {"message": "embeddings are down", "type": "test"}})
            elif self.path.rstrip("/").endswith("/embeddings"):
                if state.before_embedding is not None:
                    state.before_embedding()
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                state.embedding_batches.append(len(inputs))
                payload = {
                    "object": "list",
                    "model": body.get("model"),
                    "data": [{"object": "embedding", "index": i, "embedding": fake_embedding(t)}
                             for i, t in enumerate(inputs)],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }
                self._send(200, payload)
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
