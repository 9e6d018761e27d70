"""Driven by bench/outbound: runs the server, the receiver and prints the figures."""

import argparse
import configparser
import pathlib
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from standardwebhooks.webhooks import Webhook

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo

SECRET = "whsec_" + "YmVuY2gtb3V0Ym91bmQtc2VjcmV0LTIwMjY="


class Receiver:
    """Answers 204 at once and notes when each webhook-id arrived."""

    def __init__(self):
        self.arrivals = {}
        self.repeats = 0  # a webhook-id seen again: a duplicate delivery
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    msg_id = self.headers.get("webhook-id")
                    receiver.repeats += msg_id in receiver.arrivals
                    receiver.arrivals.setdefault(msg_id, time.time())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def plain_loop(url, count):
    """The floor: a single requests session posting signed events one after another."""
    session = requests.Session()
    webhook = Webhook(SECRET)
    started = time.monotonic()
    for number in range(count):
        msg_id = f"msg_plain_{number}"
        body = f'{{"type":"contact.upserted","data":{{"id":"{number}"}}}}'
        now = datetime.now(UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": webhook.sign(msg_id, now, body),
        }
        session.post(url, data=body, headers=headers, timeout=10).raise_for_status()
    return count / (time.monotonic() - started)


def subscribe(server, url, tag):
    server.subscribe_contacts(
        "Bench receiver",
        url,
        SECRET,
        {"trigger": "on_create", "filter_domain": f"[('ref', '=', '{tag}')]"},
    )


def sent_ids(server, partner_ids):
    rows = server.rpc(
        "integration.message",
        "search_read",
        [["direction", "=", "out"], ["result_res_id", "in", partner_ids]],
        fields=["sender_message_id", "result_res_id"],
    )
    return {row["result_res_id"]: row["sender_message_id"] for row in rows}


def wait_delivered(receiver, ids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            missing = [i for i in ids if i not in receiver.arrivals]
        if not missing:
            return True
        time.sleep(0.05)
    return False


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_summary(latencies):
    """p50, p90, and p99 only with the 1,000 samples it needs; the maximum as such."""
    parts = [f"p50 {statistics.median(latencies):.0f} ms"]
    if len(latencies) >= 100:
        parts.append(f"p90 {percentile(latencies, 0.9):.0f} ms")
    if len(latencies) >= 1000:
        parts.append(f"p99 {percentile(latencies, 0.99):.0f} ms")
    parts.append(f"max {max(latencies):.0f} ms")
    return ", ".join(parts)


def message_states(server, partner_ids):
    rows = server.rpc(
        "integration.message",
        "read_group",
        [["direction", "=", "out"], ["result_res_id", "in", partner_ids]],
        ["state"],
        ["state"],
    )
    return {row["state"]: row["state_count"] for row in rows}


def final_states(server, partner_ids, timeout=60):
    """Messages by state once none is waiting (a delivery's state is written after
    its POST, in the message's own transaction)."""
    deadline = time.monotonic() + timeout
    while True:
        states = message_states(server, partner_ids)
        if not {"received", "queued", "retrying"} & set(states) or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def write_backlog(args, config, tmp, receiver):
    """Saves of 100 new contacts each with the job runner off: their messages wait."""
    server = live_odoo.OdooServer(
        args.config, config["options"]["db_name"], tmp, workers=2, job_runner=False
    ).start()
    try:
        subscribe(server, receiver.url, "bench")
        started = time.time()
        partner_ids = []
        for first in range(0, args.count, 100):
            partner_ids += server.rpc(
                "res.partner",
                "create",
                [
                    {"name": f"Bench {n}", "ref": "bench"}
                    for n in range(first, min(first + 100, args.count))
                ],
            )
        emitted = time.time() - started
        ids = sent_ids(server, partner_ids)
        assert len(ids) == args.count, f"{len(ids)} messages for {args.count} events"
    finally:
        server.stop()
    return ids, partner_ids, emitted


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--count", type=int, default=2000, help="events in the burst")
    parser.add_argument("--paced", type=int, default=100, help="events sent one by one")
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    receiver = Receiver()
    all_partner_ids = []
    try:
        plain_rps = plain_loop(receiver.url, args.count)
        print(f"plain requests loop: {plain_rps:.0f} deliveries/s ({args.count} events)")
        with tempfile.TemporaryDirectory() as tmp:
            # The backlog is written with the job runner off (as during a burst of saves
            # faster than delivery), then the runner drains it: the rate counts from the
            # first arrival to the last, like the plain loop's, without the saves.
            ids, partner_ids, emitted = write_backlog(args, config, tmp, receiver)
            server = live_odoo.OdooServer(
                args.config, config["options"]["db_name"], tmp, workers=2, job_runner=True
            ).start()
            try:
                if not wait_delivered(receiver, ids.values(), args.timeout):
                    sys.exit(f"not all delivered within {args.timeout} s")
                all_partner_ids += partner_ids
                arrivals = [receiver.arrivals[i] for i in ids.values()]
                burst_rps = args.count / (max(arrivals) - min(arrivals))
                print(
                    f"job runner: {burst_rps:.0f} deliveries/s ({args.count} events emitted "
                    f"by saves of 100 in {emitted:.1f} s, {args.count / emitted:.0f}/s, "
                    "then delivered)"
                )
                # Paced: one save at a time, so the latency is not queueing behind a burst.
                latencies = []
                for number in range(args.paced):
                    saved = time.time()
                    (partner_id,) = server.rpc(
                        "res.partner", "create", [{"name": f"Paced {number}", "ref": "bench"}]
                    )
                    all_partner_ids.append(partner_id)
                    msg_id = sent_ids(server, [partner_id])[partner_id]
                    if not wait_delivered(receiver, [msg_id], 60):
                        sys.exit("a paced event was not delivered within 60 s")
                    latencies.append((receiver.arrivals[msg_id] - saved) * 1000)
                states = final_states(server, all_partner_ids)
                batches = server.rpc(
                    "queue.job",
                    "search_count",
                    [["result", "like", "more in this batch"]],
                )
            finally:
                server.stop()
    finally:
        receiver.stop()
    print(f"jobs that delivered a batch: {batches}")
    print(
        f"outbound: {burst_rps:.0f} deliveries/s vs plain loop {plain_rps:.0f}/s -> "
        f"ratio {burst_rps / plain_rps:.2f}x"
    )
    print(f"save-to-delivery latency ({args.paced} paced events): {latency_summary(latencies)}")
    expected = args.count + args.paced
    print(
        f"counted: {len(receiver.arrivals) - args.count} distinct webhook-ids received from "
        f"Odoo (plain loop's excluded), {receiver.repeats} repeated; messages by state: {states}"
    )
    if states != {"done": expected} or receiver.repeats:
        sys.exit(f"run refused: expected {expected} messages done and no repeated delivery")


if __name__ == "__main__":
    main()
