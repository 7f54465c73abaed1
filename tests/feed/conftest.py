"""A real webhook receiver for the feed's tests: http.server on 127.0.0.1 in a thread, answering from a script."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ringscope.feed.webhook import SIGNATURE_HEADER, verify_signature

SECRET = "feed-secret-0123456789abcdef"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool  # the signature verified with SECRET
    status: int  # what the receiver answered

    @property
    def batch(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted ``(status, headers)`` (then 200), verifying the signature first;
    a request whose signature does not verify gets 401."""
    url: str = ""
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def answer(self, *statuses: int | tuple[int, dict[str, str]]) -> None:
        self.script.extend(s if isinstance(s, tuple) else (s, {}) for s in statuses)

    @property
    def taken(self) -> list[dict]:
        """The batches answered 2xx, in order."""
        return [r.batch for r in self.received if 200 <= r.status < 300]


@pytest.fixture
def receiver():
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signed = verify_signature(SECRET.encode(), self.headers.get(SIGNATURE_HEADER, ""), body, time.time())
            with lock:
                status, headers = state.script.pop(0) if state.script else (200, {})
                if not signed:
                    status, headers = 401, {}
                state.received.append(Received(self.path, dict(self.headers), body, signed, status))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"no" if status >= 300 else b"ok")

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ringscope?token=t0ps3cret"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def closed_url():
    """A URL nobody listens on: a port bound then released."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
