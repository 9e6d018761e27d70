"""Each flow's samples over HTTP to a two-worker server whose real job runner processes
them; the Odoo records they produce are checked in the database."""

import concurrent.futures
import uuid

import requests
from conftest import query, traffic, wait_for


def _sample(event_type, **data):
    event = traffic.load_sample(event_type)
    event["data"].update(data)
    return event


def _send_all(server, token, events):
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


def _wait_done(db, message_ids, timeout=120):
    def states():
        rows = query(
            db, "SELECT state, last_error FROM integration_message WHERE id = ANY(%s)", message_ids
        )
        if any(state in ("exception", "dead", "cancelled") for state, _error in rows):
            raise AssertionError(f"a message failed: {rows}")
        return all(state == "done" for state, _error in rows) and len(rows) == len(message_ids)

    wait_for(states, timeout=timeout, what=f"{len(message_ids)} messages to be done")


def test_billing_samples_become_posted_invoices_and_a_reconciled_payment(start_server, db):
    server = start_server(workers=2, job_runner=True)
    tag = uuid.uuid4().hex[:6].upper()
    patient, payer = f"PAT-{tag}", f"PAY-{tag}"
    _wait_done(
        db,
        _send_all(
            server,
            "demo-billing",
            [
                _sample("patient.upserted", id=patient, name=f"Live patient {tag}"),
                _sample("payer.upserted", id=payer, name=f"Live payer {tag}", payer_code=f"L{tag}"),
            ],
        ),
    )
    charges = [f"CHG-{tag}-{n}" for n in range(4)]
    _wait_done(
        db,
        _send_all(
            server,
            "demo-billing",
            [
                _sample(
                    "charge.captured",
                    id=charge,
                    encounter_id=f"APT-{tag}-{n}",
                    patient_id=patient,
                    payer_id=payer,
                )
                for n, charge in enumerate(charges)
            ],
        ),
    )
    # Each charge: invoiced, a posted payer invoice of 100.00 and patient invoice of 20.00.
    invoices = query(
        db,
        """SELECT c.name, c.state, l.integration_share, m.state, m.amount_total, p.name
             FROM integration_charge c
             JOIN account_move_line l ON l.integration_charge_id = c.id
             JOIN account_move m ON m.id = l.move_id
             JOIN res_partner p ON p.id = m.partner_id
            WHERE c.name = ANY(%s) ORDER BY c.name, l.integration_share""",
        charges,
    )
    assert invoices == [
        row
        for charge in charges
        for row in (
            (charge, "invoiced", "patient", "posted", 20.0, f"Live patient {tag}"),
            (charge, "invoiced", "payer", "posted", 100.0, f"Live payer {tag}"),
        )
    ]
    (payment_message,) = _send_all(
        server,
        "demo-billing",
        [
            _sample(
                "payment.posted",
                id=f"PMT-{tag}",
                payer_id=payer,
                allocations=[{"charge_id": charges[0], "amount": "100.00"}],
            )
        ],
    )
    _wait_done(db, [payment_message])
    paid = query(
        db,
        """SELECT c.name, m.amount_residual, m.payment_state FROM integration_charge c
             JOIN account_move_line l ON l.integration_charge_id = c.id
             JOIN account_move m ON m.id = l.move_id
            WHERE c.name = ANY(%s) AND l.integration_share = 'payer' ORDER BY c.name""",
        charges,
    )
    assert paid[0][0] == charges[0] and paid[0][1] == 0.0, paid
    assert paid[0][2] in ("paid", "in_payment"), paid
    assert [row[1] for row in paid[1:]] == [100.0] * 3, "only the allocated charge is paid"
    payment = query(
        db,
        """SELECT p.is_reconciled, p.amount FROM integration_message msg
             JOIN account_payment p ON p.id = msg.result_res_id
            WHERE msg.id = %s AND msg.result_model = 'account.payment'""",
        payment_message,
    )
    assert payment == [(True, 100.0)]


def test_supply_samples_become_done_moves_and_a_purchase_order(start_server, db):
    server = start_server(workers=2, job_runner=True)
    tag = uuid.uuid4().hex[:6].upper()
    consumptions = [f"CON-{tag}-{n}" for n in range(4)]
    started = query(db, "SELECT max(id) FROM queue_job")[0][0] or 0
    messages = _send_all(
        server,
        "demo-supply",
        [_sample("supply.consumed", id=name) for name in consumptions]
        + [_sample("purchase.requested", id=f"PR-{tag}")],
    )
    _wait_done(db, messages)
    moves = query(
        db,
        """SELECT c.name, c.state, mv.state, mv.quantity, src.name, lot.name
             FROM integration_supply_consumption c
             JOIN stock_move mv ON mv.id = c.move_id
             JOIN stock_location src ON src.id = mv.location_id
             JOIN stock_lot lot ON lot.id = c.lot_id
            WHERE c.name = ANY(%s) ORDER BY c.name""",
        consumptions,
    )
    or2 = query(
        db,
        """SELECT l.name FROM stock_location l JOIN ir_model_data d
               ON d.res_id = l.id AND d.model = 'stock.location'
            WHERE d.module = 'integration_hub_demo' AND d.name = 'stock_location_or2_demo'""",
    )[0][0]
    assert moves == [(name, "done", "done", 4.0, or2, "L2026-10") for name in consumptions]
    order = query(
        db,
        """SELECT o.state, o.origin LIKE %s, ol.product_qty FROM integration_message m
             JOIN purchase_order o ON o.id = m.result_res_id
             JOIN purchase_order_line ol ON ol.order_id = o.id
            WHERE m.id = %s AND m.result_model = 'purchase.order' AND ol.product_qty = 500""",
        f"%PR-{tag}%",
        messages[-1],
    )
    assert order == [("draft", True, 500.0)]

    # The critical gloves' replenishment ran on its own channel through the runner too.
    def critical_jobs_done():
        rows = query(
            db,
            "SELECT state FROM queue_job WHERE id > %s AND channel = 'root.integration_critical'",
            started,
        )
        return rows and all(state == "done" for (state,) in rows)

    wait_for(critical_jobs_done, timeout=60, what="the replenishment jobs to be done")
