"""A server killed in the middle of a job loses no message and duplicates nothing."""

import uuid

import psycopg2
from conftest import query, traffic, wait_for


def test_job_killed_mid_run_is_requeued_and_processed_once(start_server, db):
    event = traffic.realistic(
        traffic.load_sample("contact.upserted"), f"crash-{uuid.uuid4().hex[:8]}"
    )
    first = start_server(workers=0, job_runner=True)
    # Jobs that earlier tests left due, or running when their server stopped (queue_job
    # requeues those once they are 10 s old; its runner looks once a minute), run first:
    # blocked by the lock below, they would hold both job slots.
    wait_for(
        lambda: (
            query(
                db,
                """SELECT count(*) FROM queue_job
                WHERE state IN ('enqueued', 'started')
                   OR (state = 'pending' AND (eta IS NULL OR eta <= now() AT TIME ZONE 'utc'))""",
            )
            == [(0,)]
        ),
        timeout=150,
        what="the jobs left by earlier tests to be done",
    )
    # Hold partners locked so the job blocks inside its transaction, mid-run.
    blocker = psycopg2.connect(dbname=first.db)
    try:
        with blocker.cursor() as cr:
            cr.execute("LOCK TABLE res_partner IN EXCLUSIVE MODE")
        response = first.post_event("demo-contacts", event)
        assert response.status_code == 202, response.text
        message_id = response.json()["id"]
        wait_for(
            lambda: (
                query(
                    db,
                    "SELECT j.state FROM integration_message m JOIN queue_job j ON j.id = m.job_id "
                    "WHERE m.id = %s",
                    message_id,
                )
                == [("started",)]
            ),
            what="the job to start",
        )
        first.kill()
    finally:
        blocker.rollback()
        blocker.close()

    # The message survived the crash; its job stays 'started' with no worker behind it.
    assert query(db, "SELECT state FROM integration_message WHERE id = %s", message_id) == [
        ("queued",)
    ]
    # queue_job requeues a started job once no worker holds its lock and it was enqueued
    # over 10 s ago; its runner looks at start, then once a minute. Start the second
    # server when that holds, so its first look finds the job.
    wait_for(
        lambda: query(
            db,
            """SELECT 1 FROM queue_job_lock l
                 JOIN queue_job j ON j.id = l.queue_job_id
                 JOIN integration_message m ON m.job_id = j.id
                WHERE m.id = %s
                  AND j.date_enqueued < (now() AT TIME ZONE 'utc' - INTERVAL '11 sec')
                  FOR NO KEY UPDATE OF l SKIP LOCKED""",
            message_id,
        ),
        what="the killed worker's lock on the job to be released",
    )
    second = start_server(workers=0, job_runner=True)
    wait_for(
        lambda: (
            query(db, "SELECT state FROM integration_message WHERE id = %s", message_id)
            == [("done",)]
        ),
        timeout=90,
        what="queue_job to requeue the dead job and the message to be done",
    )
    retries = query(
        db,
        "SELECT j.retry FROM integration_message m JOIN queue_job j ON j.id = m.job_id "
        "WHERE m.id = %s",
        message_id,
    )
    # queue_job counts runs: the killed one, then the one that finished.
    assert retries == [(2,)]
    bound = query(
        db,
        "SELECT count(*) FROM integration_binding WHERE res_model = 'res.partner' "
        "AND external_id = %s",
        event["data"]["id"],
    )
    assert bound == [(1,)]
    partners = query(db, "SELECT count(*) FROM res_partner WHERE name = %s", event["data"]["name"])
    assert partners == [(1,)]
    second.stop()
