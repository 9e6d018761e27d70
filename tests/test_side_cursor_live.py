"""The side connection (side_cursor) for real: under the addon tests it is the test's
own cursor, so only a live server with several workers shows that the circuit breaker
and the request counters are shared by every worker and committed at once."""

import concurrent.futures
import time

import requests
from conftest import DEMO_SECRET, query, traffic, wait_for
from test_outbound_live import SECRET, receiver_module
from test_webhook_live import _create_endpoint

THRESHOLD = 3
COOLDOWN = 4


def _failing_backend(server, url):
    return server.subscribe_contacts(
        "Live circuit",
        url,
        SECRET,
        {
            "trigger": "on_create",
            "filter_domain": "[('name', 'like', 'Circuit live')]",
            "field_names": "name",
        },
        outbound_max_attempts=20,
        outbound_backoff_schedule="1",
        circuit_failure_threshold=THRESHOLD,
        circuit_cooldown_seconds=COOLDOWN,
    )


def _circuit(db, backend_id):
    rows = query(
        db,
        "SELECT state, failures FROM integration_backend_circuit WHERE backend_id = %s",
        backend_id,
    )
    return rows[0] if rows else ("closed", 0)


def test_circuit_opens_on_failures_of_both_workers_probes_once_then_closes(start_server, db):
    server = start_server(workers=2, job_runner=True)
    with receiver_module.Receiver(secret=SECRET) as receiver:
        # Slow failures: the two job slots deliver at the same time, so in two workers.
        receiver.script(*[(503, {}, 1)] * 30)
        backend_id = _failing_backend(server, receiver.url + "/events")
        partner_ids = server.rpc(
            "res.partner", "create", [{"name": f"Circuit live {n}"} for n in range(4)]
        )
        pids = set()

        def opened():
            # The worker processes running this backend's deliveries, as they run.
            pids.update(
                pid
                for (pid,) in query(
                    db,
                    """SELECT j.worker_pid FROM queue_job j
                         JOIN integration_message m ON m.job_id = j.id
                        WHERE m.backend_id = %s AND j.worker_pid > 0""",
                    backend_id,
                )
            )
            return _circuit(db, backend_id)[0] == "open"

        wait_for(opened, timeout=60, interval=0.1, what="the circuit to open")
        # From now on the receiver is healthy; the probe answers slowly so that we can
        # see the others wait for it.
        with receiver._lock:
            receiver._answers.clear()
        receiver.script((200, {}, 2))
        time.sleep(0.5)  # a delivery already on its way when the circuit opened
        failed = len(receiver.requests)
        state, failures = _circuit(db, backend_id)
        assert state == "open"
        assert THRESHOLD <= failures <= failed <= THRESHOLD + 1, (failures, failed)
        assert len(pids) == 2, f"both workers must have delivered and failed: {pids}"
        # Nothing is sent during the cool-down, then exactly one probe.
        wait_for(
            lambda: _circuit(db, backend_id)[0] == "half_open",
            timeout=COOLDOWN + 30,
            what="the probe after the cool-down",
        )
        time.sleep(1)  # while the probe waits on the slow receiver
        assert len(receiver.requests) == failed + 1, "one probe, the others wait"
        wait_for(
            lambda: _circuit(db, backend_id) == ("closed", 0),
            timeout=30,
            what="the circuit to close after the probe succeeded",
        )

        def all_done():
            rows = query(
                db,
                "SELECT state FROM integration_message WHERE backend_id = %s AND direction = 'out'",
                backend_id,
            )
            return len(rows) == 4 and all(state == "done" for (state,) in rows)

        wait_for(all_done, timeout=60, what="every held delivery to be sent")
        delivered = {
            r.json["data"]["id"]
            for r in receiver.requests[failed:]
            if r.verified and r.path == "/events"
        }
        assert delivered == {str(partner_id) for partner_id in partner_ids}
    # The owner can read the changes on the backend: open, then closed again.
    chatter = query(
        db,
        "SELECT body FROM mail_message WHERE model = 'integration.backend' AND res_id = %s "
        "AND body LIKE %s ORDER BY id",
        backend_id,
        "%Delivery circuit%",
    )
    assert len(chatter) >= 2, chatter


def test_request_counters_add_up_across_workers(start_server, db):
    server = start_server(workers=2, job_runner=False)
    token = _create_endpoint(server, rate_limit=1000)
    endpoint = query(db, "SELECT id FROM integration_endpoint WHERE token = %s", token)[0][0]
    since = query(db, "SELECT date_trunc('minute', now() at time zone 'utc')")[0][0]

    def post(number):
        event = traffic.realistic(traffic.load_sample("contact.upserted"), f"count-{number}")
        secret = DEMO_SECRET if number % 4 else "whsec_" + "d3Jvbmctc2VjcmV0LWZvci1jb3VudGVycw=="
        with requests.Session() as session:
            return server.post_event(token, event, secret=secret, session=session)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = [r.status_code for r in pool.map(post, range(40))]
    assert statuses.count(202) == 30 and statuses.count(401) == 10, statuses
    # Committed on the side connection at once: visible to any other connection.
    counts = query(
        db,
        "SELECT sum(requests), sum(rejected) FROM integration_endpoint_stat "
        "WHERE endpoint_id = %s AND window_start >= %s",
        endpoint,
        since,
    )
    assert counts == [(30, 10)]
