"""Driven by bench/fhir: the same patients as FHIR transaction Bundles and as canonical
JSON webhooks, to the same running server; prints acceptance and processing rates."""

import argparse
import concurrent.futures
import configparser
import copy
import json
import pathlib
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic
from billing import db_connection, wait_final

ENTRIES = 20


def patient_bundle(run, number):
    """A transaction Bundle of ENTRIES Patients, each its own id and version."""
    sample = json.loads((traffic.FHIR_SAMPLES / "Patient.json").read_text())
    entries = []
    for entry in range(ENTRIES):
        patient = copy.deepcopy(sample)
        patient_id = f"PAT-{run}-{number}-{entry}"
        patient["id"] = patient_id
        patient["identifier"][0]["value"] = patient_id
        entries.append(
            {
                "fullUrl": f"https://clinic.example/fhir/Patient/{patient_id}",
                "resource": patient,
                "request": {"method": "PUT", "url": f"Patient/{patient_id}"},
            }
        )
    body = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    return json.dumps(body).encode()


def patient_event(run, number, entry):
    event = traffic.load_sample("patient.upserted")
    event["data"]["id"] = f"PAT-{run}-{number}-{entry}"
    return event


def timed_pool(connections, jobs, one):
    """Run ``one`` over ``jobs`` on ``connections`` threads, a session each."""
    local = threading.local()
    ids, lock = [], threading.Lock()

    def call(job):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        found = one(local.session, job)
        with lock:
            ids.extend(found)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        list(pool.map(call, jobs))
    return time.monotonic() - started, ids, started


def send_bundle(url, session, body):
    response = traffic.send_fhir(url, "demo-fhir", traffic.FHIR_DEMO_BEARER, body, session)
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code} {response.text[:300]}")
    return [
        int(entry["response"]["outcome"]["issue"][0]["details"]["text"].rsplit(" ", 1)[1])
        for entry in response.json()["entry"]
    ]


def send_json(url, session, event):
    response = traffic.send(url, "demo-billing", traffic.DEMO_SECRET, event, session)
    if response.status_code != 202:
        raise RuntimeError(f"{response.status_code} {response.text[:300]}")
    return [response.json()["id"]]


def measure(conn, connections, jobs, one, timeout):
    seconds, ids, started = timed_pool(connections, jobs, one)
    seen, pending = wait_final(conn, ids, timeout)
    done_seconds = max(seen.values(), default=started) - started
    return seconds, len(ids), done_seconds, len(pending)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--bundles", type=int, default=100, help="Bundles of 20 (default 100)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--timeout", type=int, default=1200)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    conn = db_connection(config)
    with tempfile.TemporaryDirectory() as tmp:
        server = live_odoo.OdooServer(args.config, db, tmp, workers=2, job_runner=True)
        try:
            server.start(timeout=180)
            for token in ("demo-fhir", "demo-billing"):
                endpoint = server.rpc("integration.endpoint", "search", [["token", "=", token]])
                server.rpc(
                    "integration.endpoint", "write", endpoint, {"rate_limit_per_minute": 10**7}
                )
            bundles = [patient_bundle("F", n) for n in range(args.bundles)]
            fhir = measure(
                conn,
                args.connections,
                bundles,
                lambda session, body: send_bundle(server.url, session, body),
                args.timeout,
            )
            events = [patient_event("J", n, e) for n in range(args.bundles) for e in range(ENTRIES)]
            plain = measure(
                conn,
                args.connections,
                events,
                lambda session, event: send_json(server.url, session, event),
                args.timeout,
            )
        finally:
            server.stop()
    conn.close()
    (f_seconds, f_count, f_done, f_pending) = fhir
    (j_seconds, j_count, j_done, j_pending) = plain
    print(
        f"FHIR: {args.bundles} transaction Bundles of {ENTRIES} Patients at "
        f"{args.connections} connections in {f_seconds:.1f} s: "
        f"{args.bundles / f_seconds:.1f} Bundles/s accepted = {f_count / f_seconds:.0f} "
        f"resources/s; all done after {f_done:.1f} s = {f_count / f_done:.0f} resources/s "
        f"to done (not final: {f_pending})"
    )
    print(
        f"JSON: the same {j_count} patient.upserted events as signed webhooks at "
        f"{args.connections} connections in {j_seconds:.1f} s: {j_count / j_seconds:.0f} "
        f"events/s accepted; all done after {j_done:.1f} s = {j_count / j_done:.0f} "
        f"events/s to done (not final: {j_pending})"
    )
    print(
        f"ratio FHIR / JSON: accepted {(f_count / f_seconds) / (j_count / j_seconds):.2f}x, "
        f"to done {(f_count / f_done) / (j_count / j_done):.2f}x"
    )


if __name__ == "__main__":
    main()
