"""Driven by bench/hl7: HL7 v2 over MLLP next to the JSON webhook, same server, same run.

8 connections each send messages one after the other (as MLLP senders do: the next
message after the ACK of the previous one) for a fixed time. Every MLLP message is an
SIU^S12 with its own MSH-10, stored with its job before its AA; every webhook is the
same appointment.scheduled event as JSON, signed. Loopback only; the job runner is off
so that only the intake is measured.
"""

import argparse
import configparser
import json
import pathlib
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

CONNECTIONS = 8
SIU = (traffic.HL7_SAMPLES / "SIU_S12.hl7").read_bytes()


def hl7_message(number):
    control_id = f"B{uuid.uuid4().hex[:12]}"
    return SIU.replace(b"|SIU-5001-1|", f"|{control_id}|".encode()).replace(
        b"SCH|APT-5001|APT-5001|", f"SCH|APT-B{number}|APT-B{number}|".encode()
    )


def json_event(number):
    return {
        "type": "appointment.scheduled",
        "timestamp": "2026-11-20T07:00:00Z",
        "data": {
            "id": f"APT-B{number}",
            "patient_id": "PAT-000123",
            "start": "2026-11-21T08:00:00Z",
            "end": "2026-11-21T08:20:00Z",
            "status": "scheduled",
            "provider_id": "PRV-77",
            "location_code": "CLINIC-N",
            "service_code": "99213",
            "reason": "New booking",
            "updated_at": "2026-11-20T07:00:00Z",
        },
    }


def run_clients(seconds, make_client):
    """Run CONNECTIONS clients for ``seconds``; (messages, latencies in ms, failures)."""
    latencies, failures = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index):
        send = make_client(index)
        number = 0
        mine, bad = [], 0
        while time.monotonic() < deadline:
            number += 1
            start = time.perf_counter()
            ok = send(f"{index}-{number}")
            mine.append((time.perf_counter() - start) * 1000)
            bad += not ok
        with lock:
            latencies.extend(mine)
            failures.append(bad)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), latencies, sum(failures)


def mllp_client(port):
    def make(_index):
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)

        def send(number):
            ack = traffic.mllp_exchange(sock, hl7_message(number))
            return traffic.msa(ack).startswith("MSA|AA|")

        return send

    return make


def webhook_client(url):
    def make(_index):
        session = requests.Session()

        def send(number):
            body, headers = traffic.signed_request(traffic.DEMO_SECRET, json_event(number))
            response = session.post(url, data=body, headers=headers, timeout=60)
            return response.status_code == 202

        return send

    return make


def figures(label, seconds, result):
    count, latencies, failures = result
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else 0.0
    rate = count / seconds
    print(
        f"{label}: {rate:.0f} messages/s acknowledged, p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {p99:.1f} ms at {CONNECTIONS} connections"
        f"{f', {failures} not accepted' if failures else ''}",
        flush=True,
    )
    return rate, p99


def prepare(server):
    """demo-hl7 and demo-billing accept without rate limit; the patient exists."""
    for token in ("demo-hl7", "demo-billing"):
        ids = server.rpc("integration.endpoint", "search", [["token", "=", token]])
        if not ids:
            raise SystemExit(f"endpoint {token} missing: install integration_hub_demo")
        server.rpc("integration.endpoint", "write", ids, {"rate_limit_per_minute": 10**7})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    mllp_port = live_odoo.free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = live_odoo.OdooServer(
            args.config,
            config["options"]["db_name"],
            tmp,
            workers=2,
            job_runner=False,
            mllp_port=mllp_port,
        ).start()
        try:
            prepare(server)
            before = server.rpc("integration.message", "search_count", [])
            webhook_url = f"{server.url}/integration/webhook/demo-billing"
            run_clients(3, webhook_client(webhook_url))  # warm-up
            run_clients(3, mllp_client(mllp_port))
            json_rate, json_p99 = figures(
                "JSON webhook /integration/webhook (stored + job queued)",
                args.seconds,
                run_clients(args.seconds, webhook_client(webhook_url)),
            )
            hl7_rate, hl7_p99 = figures(
                "HL7 v2 over MLLP (parsed, mapped, stored + job queued, AA after commit)",
                args.seconds,
                run_clients(args.seconds, mllp_client(mllp_port)),
            )
            stored = server.rpc("integration.message", "search_count", []) - before
            print(f"messages stored in the run: {stored}")
        finally:
            server.stop()
    print(
        json.dumps(
            {
                "hl7_mllp_per_s": round(hl7_rate),
                "hl7_p99_ms": round(hl7_p99, 1),
                "json_webhook_per_s": round(json_rate),
                "json_p99_ms": round(json_p99, 1),
            }
        )
    )
    print(f"ratio HL7/MLLP vs JSON webhook: {hl7_rate / json_rate:.2f}x messages/s")


if __name__ == "__main__":
    main()
