"""Helpers of the live flow tests (test_flows_live, test_ordering_live): the shared samples
sent over HTTP to a running server, and the waits for their messages to be processed."""

import concurrent.futures

import requests
from conftest import query, traffic, wait_for


def sample(event_type, **data):
    """The shared sample of ``event_type`` with ``data`` keys replaced."""
    event = traffic.load_sample(event_type)
    event["data"].update(data)
    return event


def send_all(server, token, events):
    """Send the events at once (8 senders); every one must be accepted."""

    def send(event):
        with requests.Session() as session:
            return server.post_event(token, event, session=session)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, events))
    assert [r.status_code for r in responses] == [202] * len(events), [
        (r.status_code, r.text[:200]) for r in responses
    ]
    return [r.json()["id"] for r in responses]


def wait_done(db, message_ids, timeout=120):
    def states():
        rows = query(
            db, "SELECT state, last_error FROM integration_message WHERE id = ANY(%s)", message_ids
        )
        if any(state in ("exception", "dead", "cancelled") for state, _error in rows):
            raise AssertionError(f"a message failed: {rows}")
        return all(state == "done" for state, _error in rows) and len(rows) == len(message_ids)

    wait_for(states, timeout=timeout, what=f"{len(message_ids)} messages to be done")


def patient_and_payer(server, db, tag, label, payer_code):
    """A patient PAT-<tag> and a payer PAY-<tag> (named "<label> patient|payer <tag>")
    sent to demo-billing and processed; returns their ids."""
    patient, payer = f"PAT-{tag}", f"PAY-{tag}"
    wait_done(
        db,
        send_all(
            server,
            "demo-billing",
            [
                sample("patient.upserted", id=patient, name=f"{label} patient {tag}"),
                sample(
                    "payer.upserted", id=payer, name=f"{label} payer {tag}", payer_code=payer_code
                ),
            ],
        ),
    )
    return patient, payer
