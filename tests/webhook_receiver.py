"""A real HTTP receiver on 127.0.0.1 (a free port) for the webhook tests.

It verifies each request as a subscriber would, with ``standardwebhooks.Webhook(secret).verify``,
and keeps what came: body, headers, and whether the signature verified. ``answers`` is a list of
status codes to give, one per request (then 200); ``delay`` holds each answer back.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    verified: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body, receiver.verifies(body, headers)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else 200
                answer = f"answer {status}\x00\x1b[31m <script>".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def verifies(self, body: bytes, headers: dict) -> bool:
        if not self.secret:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
