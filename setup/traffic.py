"""Demo traffic: every sample of a flow, with fresh ids, sent to its demo endpoint.

    .venv/bin/python setup/traffic.py --all                  # every flow, master data first
    .venv/bin/python setup/traffic.py --flow billing --count 3
    .venv/bin/python setup/traffic.py --flow contacts --count 200 --concurrency 8

A run of a flow sends each sample of addons/integration_hub_demo/samples that belongs to
it (canonical JSON events signed with Standard Webhooks, FHIR R4 resources with the
endpoint's bearer token, HL7 v2 messages over MLLP) in stages: each stage is processed by
Odoo before the next is sent, so that every event finds what it refers to. Each run gives
the samples' business ids (patient, appointment, charge, payment, order, ASN, ...) a suffix
of its own, so that a second run creates new records instead of replaying the first; the
master data the demo database already holds (the supplier SUP-MEDLINE, the item
SKU-GLOVE-M, the manager EMP-3) keeps its ids. The supply flow acts as a buyer between
its stages: it confirms the order the purchase request created, and the supplier's
acknowledgement, ASN and goods receipt then refer to that order's number.

Waiting for Odoo, confirming the order and the final check go through Odoo's JSON-RPC as
the demo admin (--db, --login, --password). The script ends with the number of messages
of the run in each state and exits 1 when one is not done. Only sends to the URL given
(default localhost).
"""

import argparse
import concurrent.futures
import copy
import dataclasses
import json
import os
import pathlib
import re
import socket
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook

REPO = pathlib.Path(__file__).resolve().parent.parent
DEMO_SAMPLES = REPO / "addons/integration_hub_demo/samples"
SAMPLES = DEMO_SAMPLES / "events"
HL7_SAMPLES = DEMO_SAMPLES / "hl7"
FHIR_SAMPLES = DEMO_SAMPLES / "fhir"
MLLP_START, MLLP_END = b"\x0b", b"\x1c\x0d"
DEMO_SECRET = "whsec_aW50ZWdyYXRpb24taHViLWRlbW8tc2VjcmV0LTIwMjY="
FHIR_DEMO_BEARER = "demo-fhir-token"
# Messages Odoo has not finished with (integration.message states).
PENDING_STATES = ("received", "queued", "retrying")


class TrafficError(Exception):
    """The demo cannot go on: what went wrong, for the person running it."""


def now_iso():
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def load_sample(event_type):
    return json.loads((SAMPLES / f"{event_type}.json").read_text())


def realistic(event, number):
    """A copy of a sample with its own ids and times, as a live system would send."""
    event = copy.deepcopy(event)
    now = now_iso()
    event["timestamp"] = now
    data = event["data"]
    if "id" in data:
        data["id"] = f"{data['id']}-{number}"
    if "name" in data:
        data["name"] = f"{data['name']} {number}"
    if "updated_at" in data:
        data["updated_at"] = now
    return event


def rename(text, renames):
    """``text`` with each id of ``renames`` replaced where it stands alone or as the
    start of a longer id (PR-2201 and its line PR-2201-1), never inside a word."""
    if not renames:
        return text
    pattern = re.compile(
        r"(?<![A-Za-z0-9])("
        + "|".join(re.escape(old) for old in sorted(renames, key=len, reverse=True))
        + r")(?![A-Za-z0-9])"
    )
    return pattern.sub(lambda match: renames[match.group(1)], text)


# Senders ---------------------------------------------------------------------


def signed_request(secret, event, msg_id=None):
    """(body, headers) of one event, signed with the standardwebhooks library."""
    body = json.dumps(event)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, timestamp, body)
    return body.encode(), {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


def send(url, token, secret, event, session=None):
    body, headers = signed_request(secret, event)
    return (session or requests).post(
        f"{url.rstrip('/')}/integration/webhook/{token}", data=body, headers=headers, timeout=30
    )


def send_fhir(url, token, bearer, body, session=None):
    """POST one FHIR resource or Bundle (bytes) with the endpoint's bearer token."""
    return (session or requests).post(
        f"{url.rstrip('/')}/integration/fhir/{token}",
        data=body,
        headers={"Content-Type": "application/fhir+json", "Authorization": f"Bearer {bearer}"},
        timeout=30,
    )


def mllp_exchange(sock, message):
    """Send one HL7 message in an MLLP frame; the ACK it gets back (bytes)."""
    sock.sendall(MLLP_START + message + MLLP_END)
    data = b""
    while MLLP_END not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the listener closed the connection without an ACK")
        data += chunk
    return data[data.index(MLLP_START) + 1 : data.index(MLLP_END)]


def msa(ack):
    """The MSA segment of an ACK, as text."""
    return next(s for s in ack.split(b"\r") if s.startswith(b"MSA")).decode("latin-1")


def send_webhook_sample(args, flow, name, renames, session):
    event = json.loads(rename((SAMPLES / f"{name}.json").read_text(), renames))
    event["timestamp"] = now_iso()
    if "updated_at" in event["data"]:
        event["data"]["updated_at"] = now_iso()
    response = send(args.url, args.token or flow.token, args.secret, event, session)
    return response.status_code == 202, f"{response.status_code} {response.text}"


def send_fhir_sample(args, flow, name, renames, session):
    body = rename((FHIR_SAMPLES / f"{name}.json").read_text(), renames).encode()
    response = send_fhir(args.url, args.token or flow.token, args.bearer, body, session)
    return 200 <= response.status_code < 300, f"{response.status_code} {response.text}"


def send_hl7_sample(args, _flow, name, renames, _session):
    host, _sep, port = args.mllp.rpartition(":")
    message = rename((HL7_SAMPLES / f"{name}.hl7").read_bytes().decode("latin-1"), renames)
    with socket.create_connection((host or "127.0.0.1", int(port)), timeout=30) as sock:
        answer = msa(mllp_exchange(sock, message.encode("latin-1")))
    return answer.startswith("MSA|AA|"), answer


# Odoo, as the demo admin -------------------------------------------------------


class Odoo:
    """The demo database through JSON-RPC, as its admin: to wait for the messages, to
    act as a buyer, and to check that every message of the run is done."""

    def __init__(self, url, db, login, password):
        self.url, self.db, self.password = url.rstrip("/"), db, password
        self.uid = self._rpc("common", "login", db, login, password)
        if not self.uid:
            raise TrafficError(f"Odoo refused the login {login!r} on database {db!r}.")

    def _rpc(self, service, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": uuid.uuid4().hex,
        }
        answer = requests.post(f"{self.url}/jsonrpc", json=payload, timeout=60).json()
        if "error" in answer:
            error = answer["error"].get("data", {}).get("message") or answer["error"]
            raise TrafficError(f"Odoo answered {service}.{method} with: {error}")
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        return self._rpc(
            "object", "execute_kw", self.db, self.uid, self.password, model, method, args, kwargs
        )

    @staticmethod
    def _sent(after_id):
        """The messages received since ``after_id`` (what Odoo sends out is not ours)."""
        return [("id", ">", after_id), ("direction", "=", "in")]

    def last_message_id(self):
        ids = self.call("integration.message", "search", [], order="id desc", limit=1)
        return ids[0] if ids else 0

    def wait_for_messages(self, after_id, timeout):
        """Until no message since ``after_id`` is still to be processed."""
        deadline = time.monotonic() + timeout
        domain = [*self._sent(after_id), ("state", "in", PENDING_STATES)]
        while self.call("integration.message", "search_count", domain):
            if time.monotonic() > deadline:
                raise TrafficError(
                    f"Messages were still waiting to be processed after {timeout} s: is the "
                    "job runner on (server_wide_modules with queue_job)?"
                )
            time.sleep(0.3)

    def messages_by_state(self, after_id):
        groups = self.call(
            "integration.message",
            "read_group",
            self._sent(after_id),
            ["state"],
            ["state"],
            lazy=False,
        )
        return {group["state"]: group["__count"] for group in groups}

    def failed_messages(self, after_id):
        return self.call(
            "integration.message",
            "search_read",
            [*self._sent(after_id), ("state", "!=", "done")],
            ["display_name", "state", "last_error"],
            limit=20,
        )


def confirm_requested_order(odoo, renames):
    """A buyer confirms the order the purchase request created; the supplier's
    acknowledgement, ASN and goods receipt refer to its number."""
    request = renames.get("PR-2201", "PR-2201")
    orders = odoo.call("purchase.order", "search_read", [("origin", "=", request)], ["name"])
    if len(orders) != 1:
        raise TrafficError(
            f"Purchase request {request} made {len(orders)} purchase orders, not 1: see its "
            "message in Integrations > Messages."
        )
    odoo.call("purchase.order", "button_confirm", [orders[0]["id"]])
    renames["P00012"] = orders[0]["name"]
    return f"confirmed {orders[0]['name']}"


# Flows -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Flow:
    """The samples of one demo source system and the endpoint they go to.

    ``stages``: sample names (without extension) sent together, each stage processed
    before the next; a function in their place is a step a person does in Odoo.
    ``fresh_ids``: the business ids a run renames (the ids they start are renamed too).
    """

    send: Callable
    token: str
    stages: tuple
    fresh_ids: tuple


# In the order --all sends them: master data first.
FLOWS = {
    "contacts": Flow(send_webhook_sample, "demo-contacts", (("contact.upserted",),), ("C-1001",)),
    "workforce": Flow(
        send_webhook_sample,
        "demo-workforce",
        (
            ("cost_center.upserted",),
            ("department.upserted",),
            ("employee.upserted",),
            ("shift.worked",),
            ("employee.terminated",),
        ),
        ("CC-410", "SURG", "EMP-12", "SHIFT-77001"),
    ),
    "billing": Flow(
        send_webhook_sample,
        "demo-billing",
        (
            ("patient.upserted", "payer.upserted"),
            ("appointment.completed", "appointment.cancelled"),
            ("charge.captured",),
            ("payment.posted", "refund.issued", "claim.status_changed"),
        ),
        (
            *("PAT-000123", "PAY-ACME", "ACME01", "APT-5001", "APT-5002", "CHG-9001"),
            *("PMT-3001", "EFT-778812", "RFD-0001", "CLM-4001"),
        ),
    ),
    "fhir": Flow(
        send_fhir_sample,
        "demo-fhir",
        (
            ("Patient", "Organization-payer"),
            ("Coverage",),
            ("Encounter",),
            ("ChargeItem",),
            ("PaymentReconciliation",),
            # The same patient, visit and charge again, as one transaction: changes nothing.
            ("Bundle-transaction",),
        ),
        (
            *("PAT-000123", "PAY-ACME", "ACME01", "COV-123-ACME", "APT-5001", "CHG-9001"),
            *("PMT-3001", "EFT-778812"),
        ),
    ),
    "hl7": Flow(
        send_hl7_sample,
        "demo-hl7",
        (("ADT_A04",), ("SIU_S12",), ("SIU_S14_completed",), ("SIU_S15_cancelled",), ("DFT_P03",)),
        (
            *("PAT-000123", "PAY-ACME", "APT-5001", "APT-5002", "CHG-9001"),
            # The messages' own control ids (MSH-10), which HL7 deduplicates on.
            *("ADT-000123", "SIU-5001", "SIU-5002", "DFT-9001"),
        ),
    ),
    "supply": Flow(
        send_webhook_sample,
        "demo-supply",
        (
            ("supplier.upserted", "item.upserted"),
            ("catalog.price_updated",),
            ("supply.consumed", "purchase.requested"),
            confirm_requested_order,
            ("supplier.acknowledged",),
            ("asn.received",),
            ("goods.received",),
        ),
        ("CAT-SUP-MEDLINE-2026-11", "CON-70001", "PR-2201", "ACK-881", "ASN-5501", "GR-6601"),
    ),
}


def run_flow(args, odoo, name, suffix, log):
    """One run of a flow: its stages in order, with the ids of this run."""
    flow = FLOWS[name]
    renames = {old: f"{old}{suffix}" for old in flow.fresh_ids}
    ok = True
    with requests.Session() as session:
        for stage in flow.stages:
            if callable(stage):
                log(f"{name}{suffix} {stage.__name__}: {stage(odoo, renames)}")
                continue
            before = odoo.last_message_id() if odoo else 0
            for sample in stage:
                accepted, answer = flow.send(args, flow, sample, renames, session)
                ok = ok and accepted
                log(f"{name}{suffix} {sample}: {answer[:160]}")
            if odoo and len(flow.stages) > 1:
                odoo.wait_for_messages(before, args.timeout)
    return ok


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:])
        + "\n\nFlows, in the order --all sends them: "
        + ", ".join(FLOWS)
        + ".",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--flow",
        choices=list(FLOWS),
        default="contacts",
        help="the flow whose samples to send (default: contacts)",
    )
    which.add_argument("--all", action="store_true", help="every flow, in the order above")
    parser.add_argument("--count", type=int, default=1, help="runs, each with new ids")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="runs at the same time (default 1)"
    )
    parser.add_argument("--url", default="http://localhost:8069", help="Odoo's address")
    parser.add_argument(
        "--db",
        default=os.environ.get("INTEGRATION_HUB_DB", "integration_hub"),
        help="the demo database (default: $INTEGRATION_HUB_DB or integration_hub, as setup/run)",
    )
    parser.add_argument("--login", default="admin", help="the demo admin (waits, confirms)")
    parser.add_argument("--password", default="admin")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="send only: no JSON-RPC, no waiting between stages, no final check "
        "(for load; not with supply, whose buyer step needs Odoo)",
    )
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait per stage")
    parser.add_argument("--token", help="endpoint URL token (default: the flow's demo endpoint)")
    parser.add_argument("--secret", default=DEMO_SECRET, help="Standard Webhooks secret")
    parser.add_argument("--bearer", default=FHIR_DEMO_BEARER, help="fhir: bearer token")
    parser.add_argument("--mllp", default="127.0.0.1:2575", help="hl7: host:port of MLLP")
    args = parser.parse_args(argv)
    args.flows = list(FLOWS) if args.all else [args.flow]
    if args.token and len(args.flows) > 1:
        parser.error("--token names one endpoint: use it with --flow")
    if args.no_wait and "supply" in args.flows:
        parser.error("supply confirms an order in Odoo between its stages: not with --no-wait")
    return args


def main(argv=None):
    args = parse_args(argv)
    odoo = None if args.no_wait else Odoo(args.url, args.db, args.login, args.password)
    start = odoo.last_message_id() if odoo else 0
    tag = uuid.uuid4().hex[:5].upper()

    def log(line):
        print(line, flush=True)

    def run(number):
        # Every flow, even after one failed: the summary then says what did not go through.
        sent = [run_flow(args, odoo, name, f"-{tag}{number}", log) for name in args.flows]
        return all(sent)

    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        all_sent = all(list(pool.map(run, range(1, args.count + 1))))
    if not odoo:
        return 0 if all_sent else 1
    odoo.wait_for_messages(start, args.timeout)
    states = odoo.messages_by_state(start)
    print("messages:", ", ".join(f"{count} {state}" for state, count in sorted(states.items())))
    failed = odoo.failed_messages(start)
    for message in failed:
        error = (message["last_error"] or "").strip().splitlines()[-1:] or [""]
        print(f"  not done: {message['display_name']} ({message['state']}) {error[0]}")
    return 0 if all_sent and not failed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TrafficError as exc:
        sys.exit(f"traffic.py: {exc}")
    except (requests.ConnectionError, ConnectionError) as exc:
        sys.exit(
            f"traffic.py: Odoo does not answer ({exc.__class__.__name__}): is it running at "
            "--url (bash setup/run), with its MLLP listener at --mllp?"
        )
