"""A webhook receiver on 127.0.0.1 for the tests: answers with the next status of a script
(the last one repeats) and keeps every request it got."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    port: int
    statuses: list[int]
    requests: list[Received] = field(default_factory=list)
    redirect_to: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/vendor"


def start_receiver(port: int, statuses: list[int], redirect_to: str = ""):
    receiver = Receiver(port=port, statuses=list(statuses), redirect_to=redirect_to)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            receiver.requests.append(Received(self.path, dict(self.headers.items()), self.rfile.read(length)))
            status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
            self.send_response(status)
            if receiver.redirect_to:
                self.send_header("Location", receiver.redirect_to)
            body = b"ok" if status < 300 else b"kaputt"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return receiver, server
