"""Driven by bench/supply: intake, processing by the job runner, then the ORM floor.

Both sides are single-process: the job runner has one job slot, the floor is one Odoo
shell committing every 500 moves, as an import would. The floor runs on a copy of the
database taken before the pipeline, so both start from the same stock data; OR-2 holds
enough stock for every move, so no quant goes negative.
"""

import argparse
import concurrent.futures
import configparser
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import psycopg2
import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

TOKEN = "demo-supply"
QUANTITY = 4  # units per supply.consumed sample
FLOOR_BATCH = 500
# Stock for every move of both sides at OR-2, consumption alone (no replenishment jobs
# beside the measured ones), and a rate limit that refuses nothing.
PREPARE = """
product = env["product.product"].search([("default_code", "=", "SKU-GLOVE-M")], limit=1)
product.integration_critical = False
source = env.ref("integration_hub_demo.stock_location_or2_demo")
lot = env["stock.lot"]._integration_find_or_create(product, "L2026-10", env.company)
env["stock.quant"]._update_available_quantity(product, source, {quantity}, lot_id=lot)
env["integration.endpoint"].search([("token", "=", "{token}")]).rate_limit_per_minute = 10**7
env.cr.commit()
print("PREPARED", flush=True)
"""
# The floor: the stock moves the handler makes, through the ORM, committed in batches.
FLOOR = """
import time
product = env["product.product"].search([("default_code", "=", "SKU-GLOVE-M")], limit=1)
source = env.ref("integration_hub_demo.stock_location_or2_demo")
dest = env["stock.location"]._integration_consumption_location(env.company)
lot = env["stock.lot"].search([("product_id", "=", product.id), ("name", "=", "L2026-10")], limit=1)
started = batch_started = time.perf_counter()
for number in range({count}):
    move = env["stock.move"].create({{
        "name": f"Floor consumption {{number}}", "product_id": product.id,
        "product_uom_qty": {quantity}, "product_uom": product.uom_id.id,
        "location_id": source.id, "location_dest_id": dest.id,
    }})
    move._action_confirm(merge=False)
    env["stock.move.line"].create({{
        "move_id": move.id, "product_id": product.id, "product_uom_id": product.uom_id.id,
        "quantity": {quantity}, "lot_id": lot.id, "location_id": source.id,
        "location_dest_id": dest.id,
    }})
    move.picked = True
    move._action_done()
    if number % {batch} == {batch} - 1 or number == {count} - 1:
        env.cr.commit()
        env.invalidate_all()
        now = time.perf_counter()
        print(f"BATCH {{number + 1}} {{now - batch_started:.3f}}", flush=True)
        batch_started = now
print(f"FLOOR {{time.perf_counter() - started:.3f}}", flush=True)
env.cr.execute(
    "SELECT count(*) FROM stock_move WHERE state = 'done' AND name LIKE 'Floor consumption %'"
)
print(f"FLOOR_DONE {{env.cr.fetchone()[0]}}", flush=True)
"""


def odoo_shell(config_path, db, script):
    return subprocess.run(
        [
            os.environ.get("INTEGRATION_HUB_PYTHON", sys.executable),
            "odoo-bin",
            "shell",
            "-c",
            config_path,
            "-d",
            db,
            "--no-http",
            "--log-level=warn",
        ],
        cwd=os.environ.get("ODOO_SRC", "/opt/odoo"),
        input=script,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def post_events(server, count, concurrency):
    sample = traffic.load_sample("supply.consumed")

    def one(number):
        with requests.Session() as session:
            response = traffic.send(
                server.url, TOKEN, traffic.DEMO_SECRET, traffic.realistic(sample, number), session
            )
            return response.status_code

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(one, range(1, count + 1)))
    counts = {status: statuses.count(status) for status in set(statuses)}
    print(f"intake answers: {counts}", flush=True)
    if set(counts) != {202}:
        sys.exit(f"run refused: intake answered {counts}, not only 202")


MESSAGES = """SELECT count(*) FILTER (WHERE m.state = 'done'),
                     count(*) FILTER (WHERE m.state IN ('received', 'queued', 'retrying')),
                     count(*) FILTER (WHERE j.state IN ('started', 'done'))
                FROM integration_message m
                JOIN integration_endpoint e ON e.id = m.endpoint_id
                LEFT JOIN queue_job j ON j.id = m.job_id
               WHERE e.token = %s AND m.direction = 'in'"""


def watch_processing(conn, count, timeout):
    """Poll every 50 ms: times (perf_counter) of the first job started and of each tenth
    of the messages done; the window runs from the first start to the last done."""
    deadline = time.monotonic() + timeout
    first, marks = None, {}
    with conn.cursor() as cr:
        while time.monotonic() < deadline:
            cr.execute(MESSAGES, (TOKEN,))
            done, pending, started = cr.fetchone()
            conn.rollback()
            now = time.perf_counter()
            if first is None and started:
                first = now
            for tenth in range(1, 11):
                if done >= count * tenth // 10 and tenth not in marks:
                    marks[tenth] = now
            if not pending:
                return first, marks, done
            time.sleep(0.05)
    sys.exit(f"run refused: {pending} of {count} messages still pending after {timeout} s")


def per_tenth(start, marks, count):
    """Moves per second over each tenth of the run, to see whether it slows down."""
    rates, previous = [], start
    for tenth in range(1, 11):
        rates.append((count // 10) / max(marks[tenth] - previous, 1e-3))
        previous = marks[tenth]
    return " ".join(f"{rate:.1f}" for rate in rates)


def outcome(conn):
    with conn.cursor() as cr:
        cr.execute(
            """SELECT m.state, count(*) FROM integration_message m
                 JOIN integration_endpoint e ON e.id = m.endpoint_id
                WHERE e.token = %s GROUP BY m.state""",
            (TOKEN,),
        )
        states = dict(cr.fetchall())
        cr.execute(
            """SELECT count(*), count(DISTINCT a.message_id) FROM integration_message_attempt a
                 JOIN integration_message m ON m.id = a.message_id
                 JOIN integration_endpoint e ON e.id = m.endpoint_id WHERE e.token = %s""",
            (TOKEN,),
        )
        attempts, attempted = cr.fetchone()
        cr.execute(
            """SELECT count(*) FROM stock_move mv JOIN stock_location l
                   ON l.id = mv.location_dest_id
                WHERE mv.state = 'done' AND l.integration_consumption
                  AND mv.name NOT LIKE 'Floor consumption %%'"""
        )
        moves = cr.fetchone()[0]
        # Virtual locations (inventory adjustment, consumption) go negative by design.
        cr.execute(
            """SELECT min(q.quantity) FROM stock_quant q JOIN stock_location l
                   ON l.id = q.location_id WHERE l.usage = 'internal' AND q.quantity < 0"""
        )
        negative = cr.fetchone()[0]
    conn.rollback()
    return states, attempts, attempted, moves, negative


def connect(config, db):
    options = config["options"]
    return psycopg2.connect(
        dbname=db,
        host=options.get("db_host") or None,
        port=options.get("db_port") or None,
        user=options.get("db_user") or None,
    )


def run_pipeline(args, db, count):
    """Intake with the runner off, then the runner with one job slot; the window."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    conn = connect(config, db)
    with tempfile.TemporaryDirectory() as tmp:
        # Intake with the job runner off: the jobs wait, as after a burst.
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=False)
        server.start()
        try:
            started = time.monotonic()
            post_events(server, count, args.concurrency)
            print(f"intake: {count} webhooks in {time.monotonic() - started:.1f} s", flush=True)
        finally:
            server.stop()
        # One job slot: single-process, like the floor.
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=True)
        server_config = configparser.ConfigParser(interpolation=None)
        server_config.read(server.conf)
        server_config["queue_job"]["channels"] = (
            "root:1,root.integration:1,root.integration_critical:1"
        )
        with open(server.conf, "w") as handle:
            server_config.write(handle)
        server.start()
        try:
            first, marks, _done = watch_processing(conn, count, max(600, count))
        finally:
            server.stop()
    states, attempts, attempted, moves, negative = outcome(conn)
    conn.close()
    print(
        f"job runner (1 job slot): messages by state {states}; {attempts} attempts on "
        f"{attempted} messages; {moves} done consumption moves; "
        f"negative internal quants: {negative if negative is not None else 'none'}"
    )
    problems = []
    if states != {"done": count}:
        problems.append(f"messages {states}, not {count} done")
    if moves != count:
        problems.append(f"{moves} consumption moves, not {count}")
    if negative is not None:
        problems.append(f"a quant went negative ({negative})")
    if problems:
        sys.exit("run refused: " + "; ".join(problems))
    return first, marks


def run_floor(config_path, floor_db, count):
    """The floor's total seconds and the seconds of each batch."""
    output = odoo_shell(
        config_path, floor_db, FLOOR.format(count=count, quantity=QUANTITY, batch=FLOOR_BATCH)
    )
    floor_seconds, floor_done, batches = None, None, []
    for line in output.splitlines():
        if line.startswith("FLOOR "):
            floor_seconds = float(line.split()[1])
        elif line.startswith("FLOOR_DONE "):
            floor_done = int(line.split()[1])
        elif line.startswith("BATCH "):
            _, made, seconds = line.split()
            batches.append((int(made), float(seconds)))
    if floor_seconds is None or floor_done != count:
        sys.exit(f"run refused: the floor made {floor_done} moves, not {count}: {output[-2000:]}")
    return floor_seconds, batches


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=8, help="webhook senders")
    args = parser.parse_args()
    count = max(10, args.count - args.count % 10)  # tenths of the run are reported
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    floor_db = f"{db}_floor"
    output = odoo_shell(args.config, db, PREPARE.format(quantity=2 * QUANTITY * count, token=TOKEN))
    if "PREPARED" not in output:
        sys.exit(f"the stock could not be prepared: {output[-2000:]}")
    subprocess.run(["dropdb", "--if-exists", floor_db], check=True)
    subprocess.run(["createdb", "-T", db, floor_db], check=True)
    try:
        first, marks = run_pipeline(args, db, count)
        floor_seconds, batches = run_floor(args.config, floor_db, count)
    finally:
        subprocess.run(["dropdb", "--if-exists", floor_db], check=False)
    window = marks[10] - first
    ours = count / window
    floor = count / floor_seconds
    print(f"job runner rate per tenth of the run (moves/s): {per_tenth(first, marks, count)}")
    rates, before = [], 0
    for made, seconds in batches:
        rates.append(f"{(made - before) / seconds:.1f}")
        before = made
    print(f"floor rate per batch of up to {FLOOR_BATCH} (moves/s): {' '.join(rates)}")
    print("| path | moves | seconds | moves/s |")
    print("|---|---|---|---|")
    print(
        f"| supply.consumed through the job runner, 1 job slot | {count} | {window:.3f} "
        f"| {ours:.1f} |"
    )
    print(
        f"| same moves, ORM, one process, commit every {FLOOR_BATCH} | {count} "
        f"| {floor_seconds:.3f} | {floor:.1f} |"
    )
    print(f"ratio job runner / ORM floor: {ours / floor:.2f}x")


if __name__ == "__main__":
    main()
