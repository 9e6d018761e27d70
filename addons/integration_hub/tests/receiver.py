"""A real HTTP server on 127.0.0.1 standing in for an external system in the tests.

It verifies every request's signature with the ``standardwebhooks`` library, records
what it received and answers what the test scripted (status, headers, delay).
``/token`` is an OAuth2 client-credentials token endpoint.
"""

import base64
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Received:
    def __init__(self, path, headers, body, verified):
        self.path = path
        self.headers = headers
        self.body = body
        self.verified = verified

    @property
    def json(self):
        return json.loads(self.body)


class Receiver:
    """Usage: ``with Receiver(secret) as receiver: receiver.script(500, 200) …``."""

    def __init__(self, secret=None, token="token-abc", client=("client-1", "s3cr3t")):
        self.secret = secret
        self.token = token
        self.expires_in = 3600  # seconds the tokens it gives out live
        self.client = client
        self.requests = []
        self.token_requests = 0
        self._answers = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def script(self, *answers):
        """Next answers: a status, or (status, headers dict[, delay seconds])."""
        with self._lock:
            self._answers.extend(
                (answer, {}) if isinstance(answer, int) else answer for answer in answers
            )

    def _next_answer(self):
        with self._lock:
            return self._answers.pop(0) if self._answers else (200, {})

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":
                    return self._token(body)
                verified = False
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, dict(self.headers))
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers), body, verified)
                    )
                status, headers, *delay = receiver._next_answer()
                if delay:
                    time.sleep(delay[0])
                self._answer(status, headers, b'{"ok": true}')

            def _token(self, body):
                expected = base64.b64encode(":".join(receiver.client).encode()).decode()
                with receiver._lock:
                    receiver.token_requests += 1
                if self.headers.get("Authorization") != f"Basic {expected}" or (
                    b"grant_type=client_credentials" not in body
                ):
                    return self._answer(401, {}, b'{"error": "invalid_client"}')
                content = {"access_token": receiver.token, "expires_in": receiver.expires_in}
                self._answer(
                    200, {"Content-Type": "application/json"}, json.dumps(content).encode()
                )

            def _answer(self, status, headers, body):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (timeout tests)
                    self.wfile.write(body)

        return Handler
