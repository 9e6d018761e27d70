"""Demo traffic generator: signs sample events and sends them to a running Odoo.

    .venv/bin/python setup/traffic.py --url http://localhost:8069 --count 20
    .venv/bin/python setup/traffic.py --flow fhir      # the FHIR samples to demo-fhir
    .venv/bin/python setup/traffic.py --flow hl7 --mllp 127.0.0.1:2575
    .venv/bin/python setup/traffic.py --flow workforce --count 5

Each event is a sample from addons/integration_hub_demo/samples/events with fresh
ids, signed with Standard Webhooks (the ``standardwebhooks`` library) like a real
sender. Only sends to the URL given (default localhost). ``--flow hl7`` sends the HL7 v2
samples of addons/integration_hub_demo/samples/hl7 in their order over MLLP instead
(patient, appointment booked then completed, charge) and prints each ACK's MSA.
"""

import argparse
import concurrent.futures
import copy
import json
import pathlib
import socket
import uuid
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook

SAMPLES = (
    pathlib.Path(__file__).resolve().parent.parent / "addons/integration_hub_demo/samples/events"
)
HL7_SAMPLES = SAMPLES.parent / "hl7"
HL7_ORDER = ("ADT_A04", "SIU_S12", "SIU_S14_completed", "SIU_S15_cancelled", "DFT_P03")
MLLP_START, MLLP_END = b"\x0b", b"\x1c\x0d"
DEMO_SECRET = "whsec_aW50ZWdyYXRpb24taHViLWRlbW8tc2VjcmV0LTIwMjY="
FHIR_SAMPLES = SAMPLES.parent / "fhir"
# The FHIR samples in the order a FHIR server would send them: parties, visit, charge, payment.
FHIR_ORDER = (
    "Patient",
    "Organization-payer",
    "Coverage",
    "Encounter",
    "ChargeItem",
    "PaymentReconciliation",
)
FHIR_DEMO_TOKEN = "demo-fhir"
FHIR_DEMO_BEARER = "demo-fhir-token"
# Demo endpoint token of each sample event type.
ENDPOINT_OF_EVENT = {"contact.upserted": "demo-contacts"}


def load_sample(event_type):
    return json.loads((SAMPLES / f"{event_type}.json").read_text())


def realistic(event, number):
    """A copy of a sample with its own ids and times, as a live system would send."""
    event = copy.deepcopy(event)
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    event["timestamp"] = now
    data = event["data"]
    if "id" in data:
        data["id"] = f"{data['id']}-{number}"
    if "name" in data:
        data["name"] = f"{data['name']} {number}"
    if "updated_at" in data:
        data["updated_at"] = now
    return event


def workforce_events(number):
    """One HR snapshot (cost centre, department, employee, a shift) whose ids refer to
    each other, numbered so that each snapshot creates its own records."""
    suffix = f"-{number}"
    cost_center = load_sample("cost_center.upserted")
    cost_center["data"].update(id=f"CC-410{suffix}", code=f"CC-410{suffix}")
    department = load_sample("department.upserted")
    department["data"].update(
        id=f"DEP-SURG{suffix}", code=f"SURG{suffix}", cost_center_code=f"CC-410{suffix}"
    )
    employee = load_sample("employee.upserted")
    employee["data"].update(
        id=f"EMP-12{suffix}",
        name=f"Sam Carter {number}",
        department_code=f"SURG{suffix}",
        cost_center_code=f"CC-410{suffix}",
    )
    shift = load_sample("shift.worked")
    shift["data"].update(
        id=f"SHIFT-77001{suffix}",
        employee_id=f"EMP-12{suffix}",
        department_code=f"SURG{suffix}",
        cost_center_code=f"CC-410{suffix}",
    )
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    for event in (cost_center, department, employee, shift):
        event["timestamp"] = now
    return [cost_center, department, employee, shift]


# Events of each flow, in an order where each one finds what it refers to.
FLOWS = {"workforce": ("demo-workforce", workforce_events)}


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


def fhir_flow(args):
    """The FHIR samples, one by one (or the transaction Bundle, then the rest)."""
    names = FHIR_ORDER
    if args.bundle:
        names = ("Bundle-transaction", "Organization-payer", "Coverage", "PaymentReconciliation")
    token = args.token or FHIR_DEMO_TOKEN
    with requests.Session() as session:
        for name in names:
            body = (FHIR_SAMPLES / f"{name}.json").read_bytes()
            response = send_fhir(args.url, token, args.bearer, body, session)
            print(name, response.status_code, response.text)


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


def send_hl7_samples(address):
    host, _sep, port = address.rpartition(":")
    with socket.create_connection((host or "127.0.0.1", int(port)), timeout=30) as sock:
        for name in HL7_ORDER:
            print(name, msa(mllp_exchange(sock, (HL7_SAMPLES / f"{name}.hl7").read_bytes())))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--event", default="contact.upserted", choices=sorted(ENDPOINT_OF_EVENT))
    parser.add_argument(
        "--flow",
        choices=sorted([*FLOWS, "fhir", "hl7"]),
        help="send a flow's related events instead of --event (fhir: the FHIR samples; "
        "hl7: the HL7 v2 samples over MLLP)",
    )
    parser.add_argument("--token", help="endpoint URL token (default: the demo endpoint)")
    parser.add_argument("--secret", default=DEMO_SECRET)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--mllp", default="127.0.0.1:2575", help="host:port (--flow hl7)")
    parser.add_argument("--bearer", default=FHIR_DEMO_BEARER, help="FHIR bearer token")
    parser.add_argument("--bundle", action="store_true", help="fhir: the transaction Bundle")
    args = parser.parse_args()
    if args.flow == "fhir":
        return fhir_flow(args)
    if args.flow == "hl7":
        return send_hl7_samples(args.mllp)
    if args.flow:
        flow_token, flow_events = FLOWS[args.flow]
        token = args.token or flow_token

        def one(number):
            with requests.Session() as session:
                answers = [
                    send(args.url, token, args.secret, event, session)
                    for event in flow_events(number)
                ]
                return (
                    max(answer.status_code for answer in answers),
                    " ".join(answer.text for answer in answers),
                )
    else:
        token = args.token or ENDPOINT_OF_EVENT[args.event]
        sample = load_sample(args.event)

        def one(number):
            with requests.Session() as session:
                response = send(args.url, token, args.secret, realistic(sample, number), session)
                return response.status_code, response.text

    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        for status, text in pool.map(one, range(1, args.count + 1)):
            print(status, text)


if __name__ == "__main__":
    main()
