"""Driven by bench/workforce: a snapshot through the pull feed, then through webhooks,
then the ORM baseline."""

import argparse
import concurrent.futures
import configparser
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

TOKEN = "demo-workforce"
UPDATED_AT = "2026-11-20T07:00:00Z"
# The baseline: the same employees through the ORM in one transaction, rolled back.
BASELINE = """
import time
departments = env["hr.department"].search([("integration_code", "=like", "B-%")])
by_code = {{d.integration_code: d.id for d in departments}}
started = time.perf_counter()
for number in range({count}):
    env["hr.employee"].create({{
        "name": f"Baseline employee {{number}}",
        "work_email": f"baseline{{number}}@clinic.example",
        "job_title": "Nurse",
        "department_id": by_code[f"B-{{number % {departments}}}"],
        "company_id": env.company.id,
    }})
    if number % 1000 == 999:
        env.flush_all()
        env.invalidate_all()
env.flush_all()
print(f"BASELINE {{time.perf_counter() - started:.3f}}", flush=True)
env.cr.rollback()
"""


def department(number):
    return {
        "id": f"DEP-B-{number}",
        "code": f"B-{number}",
        "name": f"Department {number}",
        "manager_id": None,
        "parent_code": None,
        "cost_center_code": None,
        "updated_at": UPDATED_AT,
    }


def employee(prefix, number, departments):
    return {
        "id": f"{prefix}-{number}",
        "name": f"Employee {prefix} {number}",
        "work_email": f"{prefix.lower()}{number}@clinic.example",
        "department_code": f"B-{number % departments}",
        "job_title": "Nurse",
        "manager_id": None,
        "cost_center_code": None,
        "active": True,
        "updated_at": UPDATED_AT,
    }


class Feed:
    """The HR system's changes feed on 127.0.0.1: departments first, then employees."""

    def __init__(self, items):
        self.items = items
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                start = int(query.get("since") or 0)
                limit = int(query.get("limit") or 100)
                page = feed.items[start : start + limit]
                end = start + len(page)
                body = json.dumps(
                    {"items": page, "next_cursor": str(end), "has_more": end < len(feed.items)}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/changes"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def wait_done(server, domain, expected, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = server.rpc("integration.message", "search_count", [*domain, ["state", "=", "done"]])
        stuck = server.rpc(
            "integration.message",
            "search_count",
            [*domain, ["state", "in", ["dead", "exception"]]],
        )
        if stuck:
            raise RuntimeError(f"{stuck} messages dead or in exception")
        if done >= expected:
            return
        time.sleep(1)
    raise RuntimeError(f"{done} of {expected} messages done after {timeout} s")


def through_feed(server, args):
    items = [
        {"id": d["id"], "type": "department.upserted", "updated_at": UPDATED_AT, "data": d}
        for d in map(department, range(args.departments))
    ]
    items += [
        {"id": e["id"], "type": "employee.upserted", "updated_at": UPDATED_AT, "data": e}
        for e in (employee("EMP-F", n, args.departments) for n in range(args.employees))
    ]
    with Feed(items) as feed:
        endpoint = server.rpc("integration.endpoint", "search", [["token", "=", TOKEN]])
        backend = server.rpc("integration.endpoint", "read", endpoint, ["backend_id"])[0]
        server.rpc(
            "integration.backend",
            "write",
            [backend["backend_id"][0]],
            {"outbound_allow_private": True},
        )
        feed_id = server.rpc(
            "integration.feed",
            "create",
            {
                "name": "Bench HR feed",
                "endpoint_id": endpoint[0],
                "url": feed.url,
                "page_size": 500,
            },
        )
        started = time.monotonic()
        server.rpc("integration.feed", "action_pull_now", [feed_id])
        wait_done(
            server,
            [["sender_message_id", "=like", "feed:%"]],
            len(items),
            timeout=max(900, args.employees),
        )
        return time.monotonic() - started


def through_webhooks(server, args):
    def one(number):
        event = {
            "type": "employee.upserted",
            "timestamp": traffic.load_sample("employee.upserted")["timestamp"],
            "data": employee("EMP-W", number, args.departments),
        }
        event["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with requests.Session() as session:
            return traffic.send(server.url, TOKEN, traffic.DEMO_SECRET, event, session).status_code

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        statuses = list(pool.map(one, range(args.employees)))
    refused = [status for status in statuses if status != 202]
    if refused:
        raise RuntimeError(f"{len(refused)} webhooks refused, e.g. HTTP {refused[0]}")
    intake = time.monotonic() - started
    wait_done(
        server,
        [["event_type", "=", "employee.upserted"], ["sender_message_id", "=like", "msg_%"]],
        args.employees,
        timeout=max(900, args.employees),
    )
    return intake, time.monotonic() - started


def run_baseline(config_path, db, count, departments):
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
        input=BASELINE.format(count=count, departments=departments),
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
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    with tempfile.TemporaryDirectory() as tmp:
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=True).start()
        try:
            endpoint = server.rpc("integration.endpoint", "search", [["token", "=", TOKEN]])
            server.rpc("integration.endpoint", "write", endpoint, {"rate_limit_per_minute": 10**7})
            feed_seconds = through_feed(server, args)
            print(
                f"pull feed: {args.departments} departments and {args.employees} employees "
                f"done in {feed_seconds:.1f} s",
                flush=True,
            )
            intake, webhook_seconds = through_webhooks(server, args)
            print(
                f"webhooks: {args.employees} employees accepted in {intake:.1f} s, done in "
                f"{webhook_seconds:.1f} s",
                flush=True,
            )
        finally:
            server.stop()
    baseline = run_baseline(args.config, db, args.employees, args.departments)
    orm = args.employees / baseline
    feed_rate = args.employees / feed_seconds
    webhook_rate = args.employees / webhook_seconds
    print("| path | employees | seconds | employees/s | ratio to ORM |")
    print("|---|---|---|---|---|")
    print(
        f"| pull feed (pages of 500) to done, job runner | {args.employees} | "
        f"{feed_seconds:.1f} | {feed_rate:.1f} | {feed_rate / orm:.2f}x |"
    )
    print(
        f"| signed webhooks ({args.concurrency} senders) to done, job runner | "
        f"{args.employees} | {webhook_seconds:.1f} | {webhook_rate:.1f} | "
        f"{webhook_rate / orm:.2f}x |"
    )
    print(
        f"| same employees, ORM, one transaction | {args.employees} | {baseline:.1f} | "
        f"{orm:.1f} | 1.00x |"
    )


if __name__ == "__main__":
    main()
