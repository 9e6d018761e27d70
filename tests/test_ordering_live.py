"""Events of one record sent at the same instant to a two-worker server whose real job
runner processes them: one at a time, in arrival order, whatever the race."""

import random
import threading
import uuid

import requests
from conftest import query, traffic
from live_flows import patient_and_payer, sample, wait_done

ENCOUNTERS = 40


def test_charge_and_appointment_of_one_encounter_sent_at_once_always_link(start_server, db):
    server = start_server(workers=2, job_runner=True)
    tag = uuid.uuid4().hex[:6].upper()
    patient, payer = patient_and_payer(server, db, tag, "Ordering", payer_code=tag)
    encounters = [f"APT-{tag}-{n}" for n in range(ENCOUNTERS)]
    message_ids = []
    for encounter in encounters:
        pair = [
            sample("appointment.completed", id=encounter, patient_id=patient, payer_id=payer),
            sample(
                "charge.captured",
                id=f"CHG-{encounter}",
                encounter_id=encounter,
                patient_id=patient,
                payer_id=payer,
            ),
        ]
        random.shuffle(pair)  # either may arrive first
        message_ids += _send_pair_at_once(server, pair)
    wait_done(db, message_ids, timeout=300)
    linked = query(
        db,
        """SELECT c.encounter_ref, a.name FROM integration_charge c
             LEFT JOIN integration_appointment a ON a.id = c.appointment_id
            WHERE c.encounter_ref = ANY(%s) ORDER BY c.encounter_ref""",
        encounters,
    )
    first_arrived = query(
        db,
        """SELECT count(*) FILTER (WHERE c.id < a.id) FROM integration_message c
             JOIN integration_message a
               ON a.ordering_key = c.ordering_key AND a.event_type = 'appointment.completed'
            WHERE c.event_type = 'charge.captured' AND c.id = ANY(%s) AND a.id = ANY(%s)""",
        message_ids,
        message_ids,
    )[0][0]
    print(
        f"{ENCOUNTERS} encounters, appointment and charge sent at once: charge first in "
        f"{first_arrived}; charges linked to their appointment: "
        f"{sum(1 for encounter, appointment in linked if appointment == encounter)}"
        f"/{len(linked)}"
    )
    assert linked == [(encounter, encounter) for encounter in sorted(encounters)]
    counts = query(
        db,
        """SELECT a.name, count(c.id) FROM integration_appointment a
             LEFT JOIN integration_charge c ON c.appointment_id = a.id
            WHERE a.name = ANY(%s) GROUP BY a.name ORDER BY a.name""",
        encounters,
    )
    assert counts == [(encounter, 1) for encounter in sorted(encounters)]


def _send_pair_at_once(server, events):
    """Send ``events`` from one thread each, released together; both must be accepted."""
    barrier = threading.Barrier(len(events))
    answers = [None] * len(events)

    def send(index):
        with requests.Session() as session:
            body, headers = traffic.signed_request(traffic.DEMO_SECRET, events[index])
            barrier.wait()
            answers[index] = session.post(
                f"{server.url}/integration/webhook/demo-billing",
                data=body,
                headers=headers,
                timeout=60,
            )

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [202] * len(events), [
        (answer.status_code, answer.text[:200]) for answer in answers
    ]
    return [answer.json()["id"] for answer in answers]
