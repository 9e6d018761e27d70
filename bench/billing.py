"""Driven by bench/billing: runs the server with its job runner, sends the charges,
waits for their draft invoice lines, then measures the ORM floor; prints the figures."""

import argparse
import concurrent.futures
import configparser
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2
import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

TOKEN = "demo-billing"
FINAL_STATES = ("done", "exception", "dead", "cancelled")
# The floor: the same invoices (one per share, as the pipeline groups them for one
# charge per encounter), created through the ORM in one transaction, then rolled back.
FLOOR_SCRIPT = """
import time
from odoo import Command
count = {count}
backend = env.ref("integration_hub_demo.integration_backend_billing_demo")
product = env.ref("integration_hub_demo.product_office_visit_established_demo")
binder = env["integration.binding"]
payer = binder._to_internal(backend, "res.partner", "PAY-ACME")
patient = binder._to_internal(backend, "res.partner", "PAT-000123")
started = time.monotonic()
for start in range(0, count, 250):
    values = []
    for number in range(start, min(count, start + 250)):
        for partner, price in ((payer, 100.0), (patient, 20.0)):
            values.append({{
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "ref": f"APT-FLOOR-{{number}}",
                "invoice_line_ids": [Command.create({{
                    "product_id": product.id, "quantity": 1.0, "price_unit": price,
                    "name": f"[99213] floor {{number}}",
                }})],
            }})
    env["account.move"].with_context(default_move_type="out_invoice").create(values)
env.flush_all()
elapsed = time.monotonic() - started
env.cr.execute(
    "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1"
    " FROM account_move_line_account_tax_rel r WHERE r.account_move_line_id = l.id))"
    " FROM account_move_line l JOIN account_move m ON m.id = l.move_id"
    " WHERE m.ref LIKE 'APT-FLOOR-%' AND l.display_type = 'product'"
)
lines, taxed = env.cr.fetchone()
print(f"FLOOR {{count}} {{elapsed:.3f}} {{lines}} {{taxed}}")
env.cr.rollback()
"""
# A typical sales tax on the benched service product: both sides compute it.
TAX_PERCENT = 8.25


def db_connection(config):
    options = config["options"]
    return psycopg2.connect(
        dbname=options["db_name"],
        host=options.get("db_host") or None,
        port=options.get("db_port") or None,
        user=options.get("db_user") or None,
    )


def post(session, url, event):
    body, headers = traffic.signed_request(traffic.DEMO_SECRET, event)
    response = session.post(url, data=body, headers=headers, timeout=60)
    if response.status_code != 202:
        raise RuntimeError(f"{response.status_code} {response.text[:300]}")
    return response.json()["id"]


def wait_final(conn, ids, timeout):
    """Poll until every message id is final; returns {id: monotonic time seen final}."""
    pending, seen = set(ids), {}
    deadline = time.monotonic() + timeout
    with conn.cursor() as cr:
        while pending and time.monotonic() < deadline:
            cr.execute(
                "SELECT id FROM integration_message WHERE id = ANY(%s) AND state = ANY(%s)",
                (list(pending), list(FINAL_STATES)),
            )
            now = time.monotonic()
            for (message_id,) in cr.fetchall():
                seen[message_id] = now
                pending.discard(message_id)
            conn.rollback()
            time.sleep(0.25)
    return seen, pending


def charge_events(count):
    sample = traffic.load_sample("charge.captured")
    for number in range(count):
        event = traffic.realistic(sample, f"B{number}")
        # One encounter per charge: each charge gets its own payer and patient invoice.
        event["data"]["encounter_id"] = f"APT-B{number}"
        yield event


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def tax_the_product(server):
    """A percent sales tax on the demo service product the charges and the floor use."""
    tax_id = server.rpc(
        "account.tax",
        "create",
        {
            "name": f"Sales tax {TAX_PERCENT}% (bench)",
            "amount": TAX_PERCENT,
            "amount_type": "percent",
            "type_tax_use": "sale",
        },
    )
    product = server.rpc(
        "ir.model.data",
        "check_object_reference",
        "integration_hub_demo",
        "product_office_visit_established_demo",
    )[1]
    server.rpc("product.product", "write", [product], {"taxes_id": [[6, 0, [tax_id]]]})


def run_pipeline(server, conn, count, senders, timeout):
    url = f"{server.url}/integration/webhook/{TOKEN}"
    endpoint = server.rpc("integration.endpoint", "search", [["token", "=", TOKEN]])
    server.rpc("integration.endpoint", "write", endpoint, {"rate_limit_per_minute": 10**7})
    backend = server.rpc("integration.backend", "search", [["code", "=", TOKEN]])
    # Draft invoice lines: the bench stops where the issue does, before posting.
    server.rpc("integration.backend", "write", backend, {"invoice_auto_post": False})
    with requests.Session() as session:
        parties = [
            post(session, url, traffic.load_sample(event_type))
            for event_type in ("patient.upserted", "payer.upserted")
        ]
    seen, pending = wait_final(conn, parties, 120)
    if pending:
        raise RuntimeError("the patient and payer events were not processed")
    events = list(charge_events(count))
    sent_at = {}
    lock = threading.Lock()
    local = threading.local()

    def send(event):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        started = time.monotonic()
        message_id = post(local.session, url, event)
        with lock:
            sent_at[message_id] = started

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(senders) as pool:
        list(pool.map(send, events))
    intake_seconds = time.monotonic() - started
    seen, pending = wait_final(conn, list(sent_at), timeout)
    with conn.cursor() as cr:
        cr.execute("SELECT id, state FROM integration_message WHERE id = ANY(%s)", (list(sent_at),))
        state_of = dict(cr.fetchall())
        # A charge counts when its message is done and it has exactly its two draft
        # invoice lines (payer and patient shares), each carrying the sales tax.
        cr.execute(
            """SELECT c.message_id FROM integration_charge c
                 JOIN account_move_line l ON l.integration_charge_id = c.id
                 JOIN account_move m ON m.id = l.move_id
                WHERE c.message_id = ANY(%s)
             GROUP BY c.message_id
               HAVING count(*) = 2 AND bool_and(m.state = 'draft')
                  AND bool_and(EXISTS (SELECT 1 FROM account_move_line_account_tax_rel r
                                        WHERE r.account_move_line_id = l.id))""",
            (list(sent_at),),
        )
        invoiced = {row[0] for row in cr.fetchall()}
        cr.execute(
            "SELECT count(*) FROM account_move_line l JOIN integration_charge c "
            "ON c.id = l.integration_charge_id WHERE c.message_id = ANY(%s)",
            (list(sent_at),),
        )
        lines = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM queue_job WHERE state = 'failed'")
        failed_jobs = cr.fetchone()[0]
    conn.rollback()
    counted = [i for i in seen if state_of.get(i) == "done" and i in invoiced]
    states = {}
    for state in state_of.values():
        states[state] = states.get(state, 0) + 1
    return {
        "intake_seconds": intake_seconds,
        "total_seconds": max((seen[i] for i in counted), default=started) - started,
        "latencies": [seen[i] - sent_at[i] for i in counted],
        "states": states,
        "pending": len(pending),
        "counted": len(counted),
        "done_without_lines": sum(
            1 for i, state in state_of.items() if state == "done" and i not in invoiced
        ),
        "lines": lines,
        "failed_jobs": failed_jobs,
    }


def run_floor(conf, db, count):
    script = FLOOR_SCRIPT.format(count=count)
    output = subprocess.run(
        [
            os.environ.get("INTEGRATION_HUB_PYTHON", sys.executable),
            "odoo-bin",
            "shell",
            "-c",
            conf,
            "-d",
            db,
            "--no-http",
            "--log-level=warn",
        ],
        input=script,
        capture_output=True,
        text=True,
        cwd=os.environ.get("ODOO_SRC", "/opt/odoo"),
        check=True,
    ).stdout
    for line in output.splitlines():
        if line.startswith("FLOOR "):
            _, _, seconds, lines, taxed = line.split()
            return float(seconds), int(lines), int(taxed)
    raise RuntimeError(f"the ORM floor printed no figure: {output[-2000:]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--count", type=int, default=5000, help="charges (default 5000)")
    parser.add_argument("--senders", type=int, default=8, help="concurrent webhook senders")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait for jobs")
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    conn = db_connection(config)
    with tempfile.TemporaryDirectory() as tmp:
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=True)
        try:
            server.start(timeout=180)
            tax_the_product(server)
            result = run_pipeline(server, conn, args.count, args.senders, args.timeout)
        finally:
            server.stop()
        floor_seconds, floor_lines, floor_taxed = run_floor(server.conf, db, args.count)
    conn.close()
    count = args.count
    latencies = result["latencies"]
    pipeline_rate = result["counted"] / result["total_seconds"] if result["total_seconds"] else 0
    floor_rate = count / floor_seconds
    print(
        f"charges sent: {count} by {args.senders} senders in {result['intake_seconds']:.1f} s "
        f"({count / result['intake_seconds']:.0f} webhooks/s accepted, all 202)"
    )
    print(
        f"messages by state: {result['states']}; not final after {args.timeout} s: "
        f"{result['pending']}; failed jobs: {result['failed_jobs']}"
    )
    print(
        f"counted: {result['counted']} charges done with their 2 taxed draft invoice lines "
        f"({result['lines']} lines in all; done without them: {result['done_without_lines']})"
    )
    if latencies:
        print(
            f"pipeline (webhook -> taxed draft invoice lines, job runner on 2 workers): "
            f"{pipeline_rate:.1f} charges/s, end-to-end p50 {percentile(latencies, 0.5):.2f} s, "
            f"p99 {percentile(latencies, 0.99):.2f} s, mean {statistics.fmean(latencies):.2f} s"
            + ("" if len(latencies) >= 100 else " (under 100 samples: p99 is the maximum)")
        )
    print(
        f"floor (same {2 * count} invoices through the ORM, one transaction, "
        f"{TAX_PERCENT}% tax on {floor_taxed} of {floor_lines} lines): "
        f"{floor_rate:.1f} charges/s ({floor_seconds:.1f} s)"
    )
    print(f"ratio pipeline / floor: {pipeline_rate / floor_rate:.2f}x")
    problems = []
    if result["counted"] != count:
        problems.append(f"{count - result['counted']} of {count} charges not done and invoiced")
    if result["lines"] != 2 * count:
        problems.append(f"{result['lines']} invoice lines for {count} charges, not {2 * count}")
    if result["failed_jobs"]:
        problems.append(f"{result['failed_jobs']} failed jobs")
    if floor_lines != 2 * count or floor_taxed != floor_lines:
        problems.append(f"floor: {floor_taxed} taxed of {floor_lines} lines, not {2 * count}")
    if problems:
        sys.exit("run refused: " + "; ".join(problems))


if __name__ == "__main__":
    main()
