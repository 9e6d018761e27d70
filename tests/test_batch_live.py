"""Incoming messages queued while no job runner runs, then processed by a real one on
two workers: jobs take over each other's messages in batches, and still every message
is processed once, the versions of one record in arrival order."""

import copy
import uuid
from datetime import UTC, datetime, timedelta

from conftest import query, traffic, wait_for

CONTACTS = 10
VERSIONS = 3


def test_a_backlog_is_processed_in_batches_once_each_in_order(start_server, db):
    tag = uuid.uuid4().hex[:6].upper()
    sample = traffic.load_sample("contact.upserted")
    intake = start_server(workers=0, job_runner=False)
    message_ids = []
    base = datetime.now(UTC)
    for version in range(VERSIONS):
        for number in range(CONTACTS):
            event = copy.deepcopy(sample)
            event["timestamp"] = traffic.now_iso()
            event["data"].update(
                id=f"BATCH-{tag}-{number}",
                name=f"Batch {tag} {number} v{version}",
                updated_at=(base + timedelta(seconds=version)).isoformat(),
            )
            response = intake.post_event("demo-contacts", event)
            assert response.status_code == 202, response.text
            message_ids.append(response.json()["id"])
    intake.stop()

    start_server(workers=2, job_runner=True)
    wait_for(
        lambda: (
            query(
                db,
                "SELECT count(*) FROM integration_message WHERE id = ANY(%s) AND state = 'done'",
                message_ids,
            )
            == [(len(message_ids),)]
        ),
        timeout=180,
        what="every message done",
    )
    # Once each: one attempt per message, one partner per contact, its last version.
    attempts = query(
        db,
        "SELECT count(*), count(DISTINCT job_uuid) FROM integration_message_attempt "
        "WHERE message_id = ANY(%s)",
        message_ids,
    )[0]
    assert attempts[0] == len(message_ids)
    names = query(
        db,
        "SELECT p.name FROM res_partner p JOIN integration_binding b "
        "ON b.res_model = 'res.partner' AND b.res_id = p.id "
        "WHERE b.external_id LIKE %s ORDER BY p.name",
        f"BATCH-{tag}-%",
    )
    assert names == sorted((f"Batch {tag} {n} v{VERSIONS - 1}",) for n in range(CONTACTS))
    # Fewer jobs than messages did the work; the others name the job that took them over.
    taken_over = query(
        db,
        "SELECT count(*) FROM integration_message m JOIN queue_job j ON j.id = m.job_id "
        "WHERE m.id = ANY(%s) AND j.result LIKE 'Processed in the batch of job %%'",
        message_ids,
    )[0][0]
    print(
        f"{len(message_ids)} messages processed by {attempts[1]} jobs; "
        f"{taken_over} taken over by another job's batch"
    )
    assert attempts[1] < len(message_ids)
    assert taken_over >= 1
