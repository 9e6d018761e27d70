"""PostgreSQL away: every answer of the hub's routes is 503 JSON with Retry-After, never
Odoo's HTML 404 or 500; once it is back, webhooks are accepted again and nothing that
was acknowledged is lost.

Runs on a PostgreSQL cluster the test starts itself (setup/pg_cluster.py), holding a
copy of the test database; the machine's own PostgreSQL is never stopped.
"""

import contextlib
import os
import time
import uuid

import pg_cluster
import pytest
import requests
from conftest import DEMO_SECRET, traffic

SENDS_BEFORE = 20
SENDS_DURING = 30
SENDS_AFTER = 20


def _contact():
    return traffic.realistic(
        traffic.load_sample("contact.upserted"), f"outage-{uuid.uuid4().hex[:10]}"
    )


def _send(server, session, event=None, msg_id=None):
    """Sign and send ``event`` (a new contact by default) as ``msg_id``."""
    body, headers = traffic.signed_request(DEMO_SECRET, event or _contact(), msg_id)
    response = session.post(
        f"{server.url}/integration/webhook/demo-contacts", data=body, headers=headers, timeout=30
    )
    return headers["webhook-id"], response


def _assert_unavailable(response, what):
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["Content-Type"].startswith("application/json"), what
    assert response.headers.get("Retry-After", "").isdigit(), what
    assert response.json()["code"] == "unavailable", what
    assert "<html" not in response.text.lower(), what


@pytest.fixture
def cluster():
    own = pg_cluster.TempCluster()
    try:
        own.start()
        own.copy_database(os.environ["INTEGRATION_HUB_TEST_DB"])
        yield own
    finally:
        own.close()


def test_database_outage_answers_503_json_and_loses_nothing(cluster, start_server):
    server = start_server(
        workers=2,
        job_runner=False,
        extra_options={"db_host": "127.0.0.1", "db_port": cluster.port, "db_user": cluster.user},
    )
    acknowledged = []
    session = requests.Session()
    for _ in range(SENDS_BEFORE):
        msg_id, response = _send(server, session)
        assert response.status_code == 202, response.text
        acknowledged.append(msg_id)

    cluster.stop("immediate")  # a crash: connections die under the workers' feet
    statuses = []
    for number in range(SENDS_DURING):
        msg_id, response = _send(server, session)
        _assert_unavailable(response, f"webhook {number} while the database is down")
        statuses.append(response.status_code)
    health = session.get(f"{server.url}/integration/health", timeout=30)
    _assert_unavailable(health, "health")
    assert health.json()["status"] == "unavailable"
    assert health.json()["database"] == "unreachable"
    metrics = session.get(
        f"{server.url}/integration/metrics",
        headers={"Authorization": "Bearer anything"},
        timeout=30,
    )
    _assert_unavailable(metrics, "metrics")
    print(f"while down: {len(statuses)} webhooks, all {set(statuses)} JSON with Retry-After")

    cluster.start()
    # Each worker may still meet connections of the crashed server once: those requests
    # are 503 too, and the sender retries the same webhook-id, as a real sender does.
    deadline = time.monotonic() + 90
    retried = 0
    for _ in range(SENDS_AFTER):
        event, msg_id = _contact(), f"msg_{uuid.uuid4().hex}"
        while True:
            msg_id, response = _send(server, session, event, msg_id)
            if response.status_code == 202:
                acknowledged.append(msg_id)
                break
            _assert_unavailable(response, "webhook while the database restarts")
            assert time.monotonic() < deadline, "202s did not resume within 90 s"
            retried += 1
            time.sleep(0.5)
    print(f"after the restart: {SENDS_AFTER} accepted, {retried} answers 503 before that")
    health = session.get(f"{server.url}/integration/health", timeout=30)
    assert (health.status_code, health.json()) == (200, {"status": "ok", "database": "ok"})

    with contextlib.closing(cluster.connect(server.db)) as connection, connection.cursor() as cr:
        cr.execute(
            """SELECT sender_message_id, count(*) FROM integration_message
                WHERE sender_message_id = ANY(%s) GROUP BY sender_message_id""",
            (acknowledged,),
        )
        stored = dict(cr.fetchall())
    assert set(stored) == set(acknowledged), "an acknowledged webhook was lost"
    assert set(stored.values()) == {1}
    print(f"acknowledged {len(acknowledged)}, stored {len(stored)}, each once")
