"""A downstream receiver down for a while, then back: the circuit opens, nothing is
dropped, everything is delivered. Bounded, loopback only; prints what it counted."""

import collections
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import live_odoo
from conftest import query, wait_for

SECRET = "whsec_" + "b3V0YWdlLWxpdmUtc2VjcmV0LTIwMjYtdGVzdA=="
CONTACTS = 30
OUTAGE_SECONDS = 10


class Downstream:
    """A receiver on a fixed loopback port that can go away (connections refused)
    and come back; counts each webhook-id it accepted."""

    def __init__(self):
        self.port = live_odoo.free_port()
        self.arrivals = collections.Counter()
        self.lock = threading.Lock()
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/events"

    def up(self):
        downstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with downstream.lock:
                    downstream.arrivals[self.headers.get("webhook-id")] += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def test_receiver_down_then_back_opens_the_circuit_and_delivers_everything(start_server, db):
    server = start_server(workers=2, job_runner=True)
    downstream = Downstream()  # not listening yet: connections are refused
    tag = f"Outage {uuid.uuid4().hex[:8]}"
    try:
        backend_id = server.subscribe_contacts(
            "Outage receiver",
            downstream.url,
            SECRET,
            {"trigger": "on_create", "filter_domain": f"[('name', 'like', '{tag}')]"},
            outbound_connect_timeout=1,
            outbound_read_timeout=2,
            outbound_backoff_schedule="1, 2",
            outbound_max_attempts=20,
            circuit_failure_threshold=3,
            circuit_cooldown_seconds=3,
        )
        server.rpc("res.partner", "create", [{"name": f"{tag} {n}"} for n in range(CONTACTS)])
        opened = wait_for(
            lambda: query(
                db,
                "SELECT 1 FROM integration_backend_circuit WHERE backend_id = %s "
                "AND state = 'open'",
                backend_id,
            ),
            timeout=60,
            what="the circuit to open while the receiver is down",
        )
        assert opened
        went_down = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        failed_during_outage = query(
            db,
            """SELECT count(*) FROM integration_message_attempt a
                 JOIN integration_message m ON m.id = a.message_id
                WHERE m.backend_id = %s AND a.outcome = 'failed'""",
            backend_id,
        )[0][0]
        downstream.up()
        back = time.monotonic()

        def states():
            return dict(
                query(
                    db,
                    "SELECT state, count(*) FROM integration_message WHERE backend_id = %s "
                    "GROUP BY state",
                    backend_id,
                )
            )

        wait_for(
            lambda: states() == {"done": CONTACTS},
            timeout=90,
            interval=0.5,
            what=f"all {CONTACTS} messages to be delivered once the receiver is back",
        )
        recovered_in = time.monotonic() - back
        sent = [
            row[0]
            for row in query(
                db,
                "SELECT sender_message_id FROM integration_message WHERE backend_id = %s",
                backend_id,
            )
        ]
        (circuit,) = query(
            db, "SELECT state FROM integration_backend_circuit WHERE backend_id = %s", backend_id
        )
    finally:
        downstream.down()
    print(
        f"\noutage: {CONTACTS} messages; circuit open after the receiver went down, "
        f"{failed_during_outage} failed attempts in {back - went_down:.0f} s "
        f"down (the open circuit holds the rest); all delivered {recovered_in:.1f} s after it "
        f"came back, {sum(downstream.arrivals.values())} requests received for "
        f"{len(downstream.arrivals)} webhook-ids; circuit now {circuit[0]}"
    )
    # Nothing dropped: every message reached the receiver, and none was used up.
    assert set(downstream.arrivals) == set(sent)
    assert len(sent) == CONTACTS
    # The open circuit held deliveries: far fewer failures than one per message and try.
    assert failed_during_outage < CONTACTS
    assert circuit == ("closed",)
