"""Each flow's samples over HTTP to a two-worker server whose real job runner processes
them; the Odoo records they produce are checked in the database."""

import uuid

from conftest import query, wait_for
from live_flows import patient_and_payer, sample, send_all, wait_done


def test_billing_samples_become_posted_invoices_and_a_reconciled_payment(start_server, db):
    server = start_server(workers=2, job_runner=True)
    tag = uuid.uuid4().hex[:6].upper()
    patient, payer = patient_and_payer(server, db, tag, "Live", payer_code=f"L{tag}")
    charges = [f"CHG-{tag}-{n}" for n in range(4)]
    wait_done(
        db,
        send_all(
            server,
            "demo-billing",
            [
                sample(
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
    (payment_message,) = send_all(
        server,
        "demo-billing",
        [
            sample(
                "payment.posted",
                id=f"PMT-{tag}",
                payer_id=payer,
                allocations=[{"charge_id": charges[0], "amount": "100.00"}],
            )
        ],
    )
    wait_done(db, [payment_message])
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
    messages = send_all(
        server,
        "demo-supply",
        [sample("supply.consumed", id=name) for name in consumptions]
        + [sample("purchase.requested", id=f"PR-{tag}")],
    )
    wait_done(db, messages)
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
