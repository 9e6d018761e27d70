"""Driven by bench/supply: intake, processing by the job runner, then the ORM baseline."""

import argparse
import concurrent.futures
import configparser
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from datetime import datetime

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

TOKEN = "demo-supply"
# The baseline: the stock moves the handler makes, through the ORM in one transaction,
# rolled back at the end so the database stays as the run found it.
BASELINE = """
import time
product = env["product.product"].search([("default_code", "=", "SKU-GLOVE-M")], limit=1)
source = env.ref("integration_hub_demo.stock_location_or2_demo")
dest = env["stock.location"]._integration_consumption_location(env.company)
lot = env["stock.lot"].search([("product_id", "=", product.id), ("name", "=", "L2026-10")], limit=1)
started = time.perf_counter()
for number in range({count}):
    move = env["stock.move"].create({{
        "name": f"Baseline consumption {{number}}", "product_id": product.id,
        "product_uom_qty": 4, "product_uom": product.uom_id.id,
        "location_id": source.id, "location_dest_id": dest.id,
    }})
    move._action_confirm(merge=False)
    env["stock.move.line"].create({{
        "move_id": move.id, "product_id": product.id, "product_uom_id": product.uom_id.id,
        "quantity": 4, "lot_id": lot.id, "location_id": source.id, "location_dest_id": dest.id,
    }})
    move.picked = True
    move._action_done()
    if number % 1000 == 999:
        env.flush_all()
        env.invalidate_all()
env.flush_all()
print(f"BASELINE {{time.perf_counter() - started:.3f}}", flush=True)
env.cr.rollback()
"""


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
    refused = [status for status in statuses if status != 202]
    if refused:
        raise RuntimeError(f"{len(refused)} webhooks refused, e.g. HTTP {refused[0]}")


def wait_processed(server, count, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = server.rpc(
            "integration.message", "search_count", [["state", "in", ["queued", "retrying"]]]
        )
        if not pending:
            return
        time.sleep(2)
    raise RuntimeError(f"{pending} of {count} messages still pending after {timeout} s")


def parse(value):
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def processing_window(server):
    """Seconds from the first attempt's start to the last attempt's end."""
    attempts = server.rpc(
        "integration.message.attempt", "search_read", [], fields=["start_date", "end_date"]
    )
    first = min(parse(a["start_date"]) for a in attempts)
    last = max(parse(a["end_date"]) for a in attempts)
    return max((last - first).total_seconds(), 1.0), len(attempts)


def run_baseline(config_path, db, count):
    script = BASELINE.format(count=count)
    output = subprocess.run(
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
    for line in output.splitlines():
        if line.startswith("BASELINE "):
            return float(line.split()[1])
    raise RuntimeError(f"the baseline printed no figure: {output[-2000:]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    with tempfile.TemporaryDirectory() as tmp:
        # Intake with the job runner off: the jobs wait, as after a burst.
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=False).start()
        try:
            endpoint = server.rpc("integration.endpoint", "search", [["token", "=", TOKEN]])
            server.rpc("integration.endpoint", "write", endpoint, {"rate_limit_per_minute": 10**7})
            # Consumption alone: no replenishment jobs beside the measured ones.
            gloves = server.rpc("product.product", "search", [["default_code", "=", "SKU-GLOVE-M"]])
            server.rpc("product.product", "write", gloves, {"integration_critical": False})
            started = time.monotonic()
            post_events(server, args.count, args.concurrency)
            intake = time.monotonic() - started
            print(f"intake: {args.count} webhooks in {intake:.1f} s", flush=True)
        finally:
            server.stop()
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=True).start()
        try:
            wait_processed(server, args.count, timeout=max(600, args.count * 0.5))
            window, attempts = processing_window(server)
            done = server.rpc("integration.message", "search_count", [["state", "=", "done"]])
            moves = server.rpc(
                "stock.move",
                "search_count",
                [["state", "=", "done"], ["location_dest_id.integration_consumption", "=", True]],
            )
        finally:
            server.stop()
    if done != args.count or moves != args.count:
        raise RuntimeError(f"expected {args.count} done messages and moves: {done}, {moves}")
    baseline = run_baseline(args.config, db, args.count)
    ours = moves / window
    orm = args.count / baseline
    print(f"job runner: {moves} moves from {attempts} attempts in {window:.0f} s")
    print(f"ORM baseline: {args.count} moves in one transaction in {baseline:.1f} s")
    print("| path | moves | seconds | moves/s |")
    print("|---|---|---|---|")
    print(f"| supply.consumed through the job runner | {moves} | {window:.0f} | {ours:.1f} |")
    print(f"| same moves, ORM, one transaction | {args.count} | {baseline:.1f} | {orm:.1f} |")
    print(f"ratio job runner / ORM: {ours / orm:.2f}x")


if __name__ == "__main__":
    main()
