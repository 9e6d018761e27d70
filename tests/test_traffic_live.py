"""setup/traffic.py --all, as a new user runs it after setup/run: every sample of every
flow to a two-worker server with its job runner and MLLP listener, twice (the second
time with fresh ids); every message ends done and each run makes its own records."""

import os
import subprocess
import sys

import live_odoo
from conftest import query, traffic, wait_for
from test_hl7_live import listening

TRAFFIC = os.path.join(os.path.dirname(__file__), os.pardir, "setup", "traffic.py")


def test_rename_changes_whole_ids_and_the_ids_they_start_never_words():
    renames = {"PR-2201": "PR-2201-X1", "SURG": "SURG-X1", "P00012": "P00037"}
    text = (
        '{"id": "PR-2201", "line_id": "PR-2201-1", "department_code": "SURG", '
        '"parent": "DEP-SURG", "name": "Surgery", "ref": "P00012", "other": "P000123", '
        '"x": "XPR-2201"}'
    )
    assert traffic.rename(text, renames) == (
        '{"id": "PR-2201-X1", "line_id": "PR-2201-X1-1", "department_code": "SURG-X1", '
        '"parent": "DEP-SURG-X1", "name": "Surgery", "ref": "P00037", "other": "P000123", '
        '"x": "XPR-2201"}'
    )
    hl7 = "PID|1||PAT-000123^^^CLINIC^MR\rFT1|1|CHG-9001||"
    assert traffic.rename(hl7, {"PAT-000123": "PAT-000123-X1", "CHG-9001": "CHG-9001-X1"}) == (
        "PID|1||PAT-000123-X1^^^CLINIC^MR\rFT1|1|CHG-9001-X1||"
    )


def _traffic_all(server, mllp_port):
    """One run of traffic.py --all; its output (it must exit 0)."""
    run = subprocess.run(
        [
            *(os.environ.get("INTEGRATION_HUB_PYTHON", sys.executable), TRAFFIC, "--all"),
            *("--url", server.url, "--db", server.db, "--mllp", f"127.0.0.1:{mllp_port}"),
            *("--timeout", "90"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run.stdout


def test_traffic_all_twice_ends_with_every_message_done_and_new_records(start_server, db):
    mllp_port = live_odoo.free_port()
    server = start_server(workers=2, job_runner=True, mllp_port=mllp_port)
    wait_for(lambda: listening(mllp_port), timeout=30, what="the MLLP listener")
    start = query(db, "SELECT coalesce(max(id), 0) FROM integration_message")[0][0]
    orders_before = query(db, "SELECT coalesce(max(id), 0) FROM purchase_order")[0][0]

    first = _traffic_all(server, mllp_port)
    middle = query(db, "SELECT max(id) FROM integration_message")[0][0]
    second = _traffic_all(server, mllp_port)

    def states(low, high):
        return dict(
            query(
                db,
                """SELECT state, count(*) FROM integration_message
                    WHERE id > %s AND id <= %s AND direction = 'in' GROUP BY state""",
                low,
                high,
            )
        )

    end = query(db, "SELECT max(id) FROM integration_message")[0][0]
    runs = [states(start, middle), states(middle, end)]
    # Every sample of every flow, each run: 22 canonical events, 6 FHIR resources (the
    # transaction Bundle repeats three of them: duplicates, not stored twice) and 5 HL7
    # messages making 7 events (ADT^A04 and DFT^P03 carry the payer too). All done.
    assert runs == [{"done": 35}, {"done": 35}], runs
    samples = [
        path.stem
        for folder in (traffic.SAMPLES, traffic.FHIR_SAMPLES, traffic.HL7_SAMPLES)
        for path in folder.iterdir()
    ]
    for output in (first, second):
        assert "messages: 35 done" in output, output[-2000:]
        assert [name for name in samples if f" {name}: " not in output] == [], output

    # Each run its own records: a paid payer invoice, a consumption move, an order
    # confirmed by the buyer whose receipt was done with a backorder.
    invoices = query(
        db,
        """SELECT b.code, m.state, m.payment_state FROM integration_charge c
             JOIN integration_backend b ON b.id = c.backend_id
             JOIN account_move_line l ON l.integration_charge_id = c.id
             JOIN account_move m ON m.id = l.move_id
            WHERE c.name LIKE 'CHG-9001-%%' AND c.message_id > %s
              AND l.integration_share = 'payer'
            ORDER BY b.code""",
        start,
    )
    # Paid by the payment (demo-billing) or the PaymentReconciliation (demo-fhir);
    # HL7 sends no payment.
    paid = {"paid", "in_payment"}
    assert [(code, state, payment in paid) for code, state, payment in invoices] == [
        ("demo-billing", "posted", True),
        ("demo-billing", "posted", True),
        ("demo-fhir", "posted", True),
        ("demo-fhir", "posted", True),
        ("demo-hl7", "posted", False),
        ("demo-hl7", "posted", False),
    ], invoices
    receipts = query(
        db,
        """SELECT o.name, o.state, p.state, bo.state, ol.qty_received
             FROM purchase_order o
             JOIN purchase_order_line ol ON ol.order_id = o.id
             JOIN stock_picking p ON p.backorder_id IS NULL AND p.id IN (
                  SELECT picking_id FROM stock_move WHERE purchase_line_id = ol.id)
             JOIN stock_picking bo ON bo.backorder_id = p.id
            WHERE o.origin LIKE 'PR-2201-%%' AND o.id > %s
              -- the acknowledgement bound the order to the number the supplier uses
              AND o.id IN (SELECT res_id FROM integration_binding
                            WHERE res_model = 'purchase.order' AND external_id = o.name)
            ORDER BY o.id""",
        orders_before,
    )
    assert [row[1:] for row in receipts] == [("purchase", "done", "assigned", 390.0)] * 2, receipts
    assert len({row[0] for row in receipts}) == 2
    moves = query(
        db,
        """SELECT c.state, mv.state FROM integration_supply_consumption c
             JOIN stock_move mv ON mv.id = c.move_id
            WHERE c.name LIKE 'CON-70001-%%' AND c.message_id > %s""",
        start,
    )
    assert moves == [("done", "done")] * 2, moves
