"""Two Odoo nodes behind HAProxy: the node whose job runner leads is killed under load.

Bounded (a fixed number of webhooks, every wait with a timeout), loopback only; the
cluster and everything it started are stopped at the end. Prints what it counted.
"""

import collections
import concurrent.futures
import os
import threading
import time
import uuid

import cluster as cluster_module
import pytest
import requests
from conftest import query, traffic, wait_for

SENDERS = 4
MESSAGES = 120
KILL_AFTER = 40  # acknowledged messages before the leading node is killed
SENDER_PATIENCE = 90  # seconds a sender keeps sending one message until acknowledged


@pytest.fixture
def cluster(tmp_path, db):
    # The demo endpoint's rate limit (600 a minute) is not what this test measures.
    (limit,) = query(
        db, "SELECT rate_limit_per_minute FROM integration_endpoint WHERE token = 'demo-contacts'"
    )[0]
    query_write(
        db,
        "UPDATE integration_endpoint SET rate_limit_per_minute = 0 WHERE token = %s",
        "demo-contacts",
    )
    started = cluster_module.Cluster(
        os.environ["INTEGRATION_HUB_CONF_TEMPLATE"],
        os.environ["INTEGRATION_HUB_TEST_DB"],
        str(tmp_path),
        nodes=2,
        workers=2,
    )
    try:
        yield started.start()
    finally:
        started.stop()
        query_write(
            db,
            "UPDATE integration_endpoint SET rate_limit_per_minute = %s WHERE token = %s",
            limit,
            "demo-contacts",
        )


def query_write(db, sql, *params):
    with db.cursor() as cr:
        cr.execute(sql, params)


class Sender:
    """Senders as a real system behaves: each message is sent again (same webhook-id,
    fresh signature) until it is acknowledged, for a bounded time."""

    def __init__(self, url, run):
        self.url = url
        self.run = run
        self.sample = traffic.load_sample("contact.upserted")
        self.lock = threading.Lock()
        self.acknowledged = {}  # webhook-id -> (message id, contact id, monotonic time)
        self.answers = collections.Counter()

    def send(self, number):
        event = traffic.realistic(self.sample, f"{self.run}-{number}")
        msg_id = f"msg_cluster_{self.run}_{number}"
        deadline = time.monotonic() + SENDER_PATIENCE
        with requests.Session() as session:
            while time.monotonic() < deadline:
                body, headers = traffic.signed_request(traffic.DEMO_SECRET, event, msg_id)
                try:
                    response = session.post(
                        f"{self.url}/integration/webhook/demo-contacts",
                        data=body,
                        headers=headers,
                        timeout=30,
                    )
                except requests.RequestException as exc:
                    with self.lock:
                        self.answers[type(exc).__name__] += 1
                    time.sleep(0.25)
                    continue
                with self.lock:
                    self.answers[response.status_code] += 1
                if response.status_code in (200, 202):
                    with self.lock:
                        self.acknowledged[msg_id] = (
                            response.json()["id"],
                            event["data"]["id"],
                            time.monotonic(),
                        )
                    return
                time.sleep(0.25)


def test_killing_the_leading_node_loses_nothing_and_the_other_runner_takes_over(cluster, db):
    leader = wait_for(cluster.runner_leader, timeout=60, what="a job runner to lead")
    survivor = next(node for node in cluster.nodes if node is not leader)
    sender = Sender(cluster.url, uuid.uuid4().hex[:8])
    killed_at = None
    with concurrent.futures.ThreadPoolExecutor(SENDERS) as pool:
        futures = [pool.submit(sender.send, number) for number in range(MESSAGES)]
        wait_for(
            lambda: len(sender.acknowledged) >= KILL_AFTER,
            timeout=120,
            interval=0.05,
            what=f"{KILL_AFTER} acknowledged webhooks",
        )
        leader.kill()  # SIGKILL to the node and all its workers and its runner
        killed_at = time.monotonic()
        for future in futures:
            future.result(timeout=180)
    after_kill = sum(1 for *_, at in sender.acknowledged.values() if at > killed_at)
    new_leader = wait_for(
        cluster.runner_leader, timeout=60, what="the surviving runner to take the lead"
    )
    took_over_in = time.monotonic() - killed_at
    ids = [message_id for message_id, _, _ in sender.acknowledged.values()]

    def pending():
        return query(
            db,
            "SELECT count(*) FROM integration_message WHERE id = ANY(%s) AND state <> 'done'",
            ids,
        )[0][0]

    # Jobs the killed node had started are requeued by the new runner after 10 s.
    wait_for(lambda: pending() == 0, timeout=240, interval=1, what="every message to be done")
    drained_in = time.monotonic() - killed_at
    rows = query(
        db,
        """SELECT m.sender_message_id, m.state,
                  (SELECT count(*) FROM integration_message_attempt a
                    WHERE a.message_id = m.id AND a.outcome = 'done')
             FROM integration_message m
            WHERE m.endpoint_id = (SELECT id FROM integration_endpoint
                                    WHERE token = 'demo-contacts')
              AND m.sender_message_id = ANY(%s)""",
        list(sender.acknowledged),
    )
    contacts = [contact for _, contact, _ in sender.acknowledged.values()]
    bindings = dict(
        query(
            db,
            """SELECT external_id, count(*) FROM integration_binding
                WHERE res_model = 'res.partner' AND external_id = ANY(%s)
                GROUP BY external_id""",
            contacts,
        )
    )
    print(
        f"\ncluster: {len(sender.acknowledged)}/{MESSAGES} acknowledged "
        f"({after_kill} after the kill), answers {dict(sender.answers)}; "
        f"runner lead taken over in {took_over_in:.1f} s, all done {drained_in:.1f} s "
        f"after the kill; {len(rows)} stored, "
        f"{sum(1 for row in rows if row[1] == 'done')} done, "
        f"{sum(row[2] for row in rows)} successful attempts, "
        f"{sum(bindings.values())} contacts bound"
    )
    assert len(sender.acknowledged) == MESSAGES  # every sender got its answer in the end
    assert after_kill > 0  # the surviving node kept accepting
    assert new_leader is survivor
    assert len(rows) == MESSAGES  # every acknowledged message stored, once (unique id)
    assert all(state == "done" and done == 1 for _, state, done in rows), rows
    assert bindings == dict.fromkeys(contacts, 1)  # one contact each, never two
