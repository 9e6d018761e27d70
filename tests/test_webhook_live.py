"""The webhook against real Odoo servers: commit before answering, several workers."""

import concurrent.futures
import uuid

import requests
from conftest import DEMO_SECRET, query, traffic, wait_for


def _contact(number):
    return traffic.realistic(
        traffic.load_sample("contact.upserted"), f"live-{uuid.uuid4().hex[:8]}-{number}"
    )


def _create_endpoint(server, rate_limit):
    backend_id = server.rpc(
        "integration.backend",
        "create",
        {"name": "Live test", "code": f"live-{uuid.uuid4().hex[:8]}", "state": "active"},
    )
    contact_type = server.rpc(
        "integration.event.type",
        "search",
        [["code", "=", "contact.upserted"], ["direction", "=", "in"]],
    )
    endpoint_id = server.rpc(
        "integration.endpoint",
        "create",
        {
            "name": "Live test",
            "backend_id": backend_id,
            "rate_limit_per_minute": rate_limit,
            "event_type_ids": [[6, 0, contact_type]],
            "secret_ids": [[0, 0, {"scheme": "v1", "secret": DEMO_SECRET}]],
        },
    )
    return server.rpc("integration.endpoint", "read", [endpoint_id], ["token"])[0]["token"]


def test_message_and_job_are_committed_before_the_202(start_server, db):
    # No job runner: whatever the 202 promises must already be in the database.
    server = start_server(workers=2, job_runner=False)
    event = _contact(1)
    response = server.post_event("demo-contacts", event)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    rows = query(
        db,
        """SELECT m.state, j.state, j.channel, m.payload::json->'data'->>'id'
             FROM integration_message m JOIN queue_job j ON j.id = m.job_id
            WHERE m.id = %s""",
        message_id,
    )
    assert rows == [("queued", "pending", rows[0][2], event["data"]["id"])]
    assert rows[0][2].startswith("root.integration.")


def test_concurrent_requests_with_one_webhook_id_leave_one_message(start_server, db):
    server = start_server(workers=2, job_runner=False)
    body, headers = traffic.signed_request(DEMO_SECRET, _contact(2))
    url = f"{server.url}/integration/webhook/demo-contacts"

    def post(_n):
        return requests.post(url, data=body, headers=headers, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(post, range(16)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(202) == 1, statuses
    assert statuses.count(200) == 15, statuses
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    count = query(
        db,
        "SELECT count(*) FROM integration_message WHERE sender_message_id = %s",
        headers["webhook-id"],
    )
    assert count == [(1,)]


def test_rate_limit_holds_across_workers(start_server, db):
    server = start_server(workers=2, job_runner=False)
    token = _create_endpoint(server, rate_limit=10)

    def post(number):
        with requests.Session() as session:
            return server.post_event(token, _contact(number), session=session).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(30)))
    # A minute boundary during the burst opens a second window: allow for it.
    assert statuses.count(202) in (10, 20), statuses
    assert statuses.count(202) + statuses.count(429) == 30, statuses
    stored = query(
        db,
        "SELECT count(*) FROM integration_message m JOIN integration_endpoint e "
        "ON e.id = m.endpoint_id WHERE e.token = %s",
        token,
    )
    assert stored == [(statuses.count(202),)]


def test_signed_demo_webhook_is_processed_by_the_job_runner(start_server, db):
    metrics_token = uuid.uuid4().hex
    server = start_server(
        workers=2,
        job_runner=True,
        extra_options={"integration_hub_metrics_token": metrics_token},
    )
    event = _contact(3)
    response = server.post_event("demo-contacts", event)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    wait_for(
        lambda: (
            query(db, "SELECT state FROM integration_message WHERE id = %s", message_id)
            == [("done",)]
        ),
        what="the message to be done",
    )
    partner = query(
        db,
        """SELECT p.name, p.email FROM integration_message m
             JOIN res_partner p ON p.id = m.result_res_id
            WHERE m.id = %s AND m.result_model = 'res.partner'""",
        message_id,
    )
    assert partner == [(event["data"]["name"], event["data"]["email"])]
    # Anyone (a load balancer) learns only that it is up; a monitor with the metrics
    # token gets the backlog.
    health = requests.get(f"{server.url}/integration/health", timeout=10).json()
    assert health == {"status": "ok", "database": "ok"}
    detail = requests.get(
        f"{server.url}/integration/health",
        headers={"Authorization": f"Bearer {metrics_token}"},
        timeout=10,
    ).json()
    assert detail["status"] == "ok"
    # The backlog only: done messages are not counted (that would scan the store).
    assert set(detail["backlog"]) == {"received", "queued", "retrying", "exception", "dead"}
