"""A real "changes since" feed on 127.0.0.1 for the pull tests (format: see feed.py).

It serves its ``items`` in order: the cursor is the index of the next item. A test
scripts failures (a status, or ``"drop"`` to close the connection mid-answer) for the
next requests, and reads what the hub asked (``requests``: query and headers).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FeedServer:
    def __init__(self, items=(), bearer=None):
        self.items = list(items)
        self.bearer = bearer
        self.requests = []
        self._failures = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/changes"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def fail_next(self, *failures):
        with self._lock:
            self._failures.extend(failures)

    def page(self, cursor, limit):
        start = int(cursor or 0)
        items = self.items[start : start + limit]
        end = start + len(items)
        return {"items": items, "next_cursor": str(end), "has_more": end < len(self.items)}

    def _handler(self):
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                with feed._lock:
                    feed.requests.append((query, dict(self.headers)))
                    failure = feed._failures.pop(0) if feed._failures else None
                if failure == "drop":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b'{"items": [')
                    self.close_connection = True
                    return
                if failure:
                    return self._answer(failure, {"error": "scripted"})
                if feed.bearer and self.headers.get("Authorization") != f"Bearer {feed.bearer}":
                    return self._answer(401, {"error": "unauthorized"})
                page = feed.page(query.get("since"), int(query.get("limit", 100)))
                self._answer(200, page)

            def _answer(self, status, content):
                body = json.dumps(content).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
