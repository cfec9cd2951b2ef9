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

from tests.support.clock import TEST_CLOCK, ScaledClock

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
    # Chat completions: the scripted reply (streamed token by token), delays and faults.
    reply_tokens: list[str] = field(default_factory=lambda: ["Hello", " there", "."])
    token_delay_s: float = 0.0
    first_token_delay_s: float = 0.0
    chat_faults: list[int] = field(default_factory=list)  # HTTP statuses to answer the next requests with
    chat_requests: list[dict] = field(default_factory=list)
    # (request, time.monotonic() when its last token and [DONE] were written), per streamed reply.
    chat_done_at: list[tuple[dict, float]] = field(default_factory=list)
    scripted: list[list[str]] = field(default_factory=list)  # per-request replies, used before reply_tokens
    # The next streamed replies end after this many tokens with no finish_reason and no [DONE], the
    # body closed cleanly (a dropped upstream connection, or a proxy ending the response).
    cuts: list[int] = field(default_factory=list)
    finish_reason: str = "stop"  # what the last chunk says ("length" when the model hit max_tokens)
    # The delays above are in this clock's seconds: the tests' scaled clock, or REAL for a bot that
    # runs in a process of its own.
    clock: ScaledClock = TEST_CLOCK


@contextmanager
def serve_openai(clock: ScaledClock = TEST_CLOCK) -> Iterator[FakeOpenAI]:
    state = FakeOpenAI(clock=clock)

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
            elif self.path.rstrip("/").endswith("/chat/completions"):
                state.chat_requests.append(body)
                if state.chat_faults:
                    status = state.chat_faults.pop(0)
                    self._send(status, {"error": {"message": f"fault {status}", "type": "test"}})
                    return
                tokens = state.scripted.pop(0) if state.scripted else state.reply_tokens
                if body.get("stream"):
                    self._stream_chat(body, tokens, state.cuts.pop(0) if state.cuts else None)
                else:
                    message = {"role": "assistant", "content": "".join(tokens)}
                    self._send(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
                                     "model": body.get("model"), "usage": {"prompt_tokens": 1,
                                     "completion_tokens": 1, "total_tokens": 2},
                                     "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def _stream_chat(self, body: dict, tokens: list[str], cut_after: int | None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            state.clock.block(state.first_token_delay_s)
            base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": body.get("model")}
            try:
                for i, token in enumerate(tokens[:cut_after]):
                    delta = {"role": "assistant", "content": token} if i == 0 else {"content": token}
                    chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    state.clock.block(state.token_delay_s)
                if cut_after is not None:
                    return  # HTTP/1.0: the body ends cleanly when the connection closes
                done = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": state.finish_reason}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                state.chat_done_at.append((body, state.clock.monotonic()))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

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
