"""Driven by bench/workforce: a snapshot through the pull feed, then through webhooks,
then the ORM baseline; or, with --import-rows, a large file through the import wizard."""

import argparse
import base64
import concurrent.futures
import configparser
import csv
import io
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
# The baseline: the same employees through the ORM in one transaction, committed at the
# end as an import would (the commit is in the time).
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
env.cr.commit()
print(f"BASELINE {{time.perf_counter() - started:.3f}}", flush=True)
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


def csv_file(rows):
    """A CSV file of event data rows, as an HR system exports one."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return out.getvalue().encode()


def timed_rpc(server, *call):
    started = time.monotonic()
    result = server.rpc(*call)
    return result, time.monotonic() - started


def import_file(server, endpoint, code, name, content, *, chunk_size):
    """Upload ``content`` as the import wizard's form does (create, then Import): the
    import's id and the seconds each of the two browser requests took."""
    (event_type,) = server.rpc(
        "integration.event.type", "search", [["code", "=", code], ["direction", "=", "in"]]
    )
    record, create_seconds = timed_rpc(
        server,
        "integration.import",
        "create",
        {
            "endpoint_id": endpoint,
            "event_type_id": event_type,
            "file": base64.b64encode(content).decode(),
            "file_name": name,
            "chunk_size": chunk_size,
        },
    )
    _result, import_seconds = timed_rpc(server, "integration.import", "action_import", [record])
    return record, create_seconds, import_seconds


def wait_import(server, record, timeout, report_every=10.0):
    """Poll the import as its form does until done, printing its progress; the last read."""
    deadline = time.monotonic() + timeout
    next_report = time.monotonic()
    fields = ["state", "progress", "chunk_done_count", "chunk_count", "accepted_count"]
    fields += ["duplicate_count", "refused_count"]
    while time.monotonic() < deadline:
        (values,) = server.rpc("integration.import", "read", [record], fields)
        if values["state"] == "done":
            return values
        if time.monotonic() >= next_report:
            print(
                f"  progress {values['progress']:.0f} % ({values['chunk_done_count']}/"
                f"{values['chunk_count']} chunks, {values['accepted_count']} rows stored)",
                flush=True,
            )
            next_report += report_every
        time.sleep(0.5)
    raise RuntimeError(f"the import is not done after {timeout} s: {values}")


def through_import(server, args):
    """Departments, then ``args.import_rows`` employees, each a CSV file through the
    import wizard; the employees' upload requests and rows/s until every row is a
    queued message."""
    (endpoint,) = server.rpc("integration.endpoint", "search", [["token", "=", TOKEN]])
    departments = csv_file([department(n) for n in range(args.departments)])
    record, *_times = import_file(
        server, endpoint, "department.upserted", "departments.csv", departments, chunk_size=1000
    )
    wait_import(server, record, timeout=600)
    content = csv_file([employee("EMP-I", n, args.departments) for n in range(args.import_rows)])
    started = time.monotonic()
    record, create_seconds, import_seconds = import_file(
        server, endpoint, "employee.upserted", "employees.csv", content, chunk_size=args.chunk_size
    )
    print(
        f"upload of {len(content) / 1e6:.1f} MB, {args.import_rows} rows: save "
        f"{create_seconds:.2f} s, Import button {import_seconds:.2f} s",
        flush=True,
    )
    values = wait_import(server, record, timeout=max(1800, args.import_rows // 10))
    seconds = time.monotonic() - started
    processed = server.rpc(
        "integration.message",
        "search_count",
        [["sender_message_id", "=like", "import:EMP-I-%"], ["state", "=", "done"]],
    )
    if (values["accepted_count"], values["refused_count"]) != (args.import_rows, 0):
        raise RuntimeError(f"rows not all accepted: {values}")
    return create_seconds, import_seconds, seconds, processed


def run_baseline(config_path, db, count, departments):
    output = subprocess.run(
        [
            os.environ.get("INTEGRATION_HUB_PYTHON", sys.executable),
            "odoo-bin",
            "shell",
            "-c",
            os.path.abspath(config_path),  # odoo-bin runs in ODOO_SRC
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


def print_import(args, create_seconds, import_seconds, seconds, processed):
    rows = args.import_rows
    print("| import of a CSV file (employee.upserted) | rows | seconds | rows/s |")
    print("|---|---|---|---|")
    print(f"| upload request: save the form (file sent) | {rows} | {create_seconds:.2f} | |")
    print(f"| upload request: Import button (count, queue) | {rows} | {import_seconds:.2f} | |")
    print(
        f"| every row a queued message (chunks of {args.chunk_size}, job runner) | {rows} | "
        f"{seconds:.1f} | {rows / seconds:.1f} |"
    )
    print(f"employees already processed (done) when the import was: {processed}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--import-rows",
        type=int,
        default=0,
        help="Instead: import a CSV file of this many employees through the import wizard.",
    )
    parser.add_argument("--chunk-size", type=int, default=1000)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    with tempfile.TemporaryDirectory() as tmp:
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=True).start()
        try:
            endpoint = server.rpc("integration.endpoint", "search", [["token", "=", TOKEN]])
            if args.import_rows:
                print_import(args, *through_import(server, args))
                return
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
