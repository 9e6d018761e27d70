"""The HL7 v2 MLLP listener in real Odoo servers: threaded and prefork, AA after commit."""

import pathlib
import socket
import time
import uuid

import live_odoo
import pytest
from conftest import query, wait_for

SAMPLES = pathlib.Path(__file__).resolve().parent.parent / "addons/integration_hub_demo/samples/hl7"
START, END = b"\x0b", b"\x1c\x0d"


def exchange(port, raw, timeout=30):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(START + raw + END)
        data = b""
        while END not in data:
            chunk = sock.recv(65536)
            assert chunk, "the listener closed the connection without an answer"
            data += chunk
    segments = data[1 : data.index(END)].split(b"\r")
    return next(s for s in segments if s.startswith(b"MSA|")).decode().split("|")


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def create_hl7_endpoint(server, application):
    backend_id = server.rpc(
        "integration.backend",
        "create",
        {"name": "Live HL7", "code": f"live-{uuid.uuid4().hex[:8]}", "state": "active"},
    )
    types = server.rpc(
        "integration.event.type",
        "search",
        [["code", "in", ["patient.upserted", "payer.upserted"]], ["direction", "=", "in"]],
    )
    return server.rpc(
        "integration.endpoint",
        "create",
        {
            "name": "Live HL7",
            "backend_id": backend_id,
            "event_type_ids": [[6, 0, types]],
            "hl7_sending_applications": application,
            "hl7_sending_facilities": "CLINIC-N",
        },
    )


@pytest.mark.parametrize("workers", [0, 2], ids=["threaded", "prefork"])
def test_mllp_listener_starts_with_the_server_acks_after_commit_and_stops_with_it(
    start_server, db, workers
):
    port = live_odoo.free_port()
    server = start_server(workers=workers, mllp_port=port)
    wait_for(lambda: listening(port), timeout=30, what="the MLLP listener")
    application = f"LIVE{uuid.uuid4().hex[:8].upper()}"
    endpoint_id = create_hl7_endpoint(server, application)
    control_id = f"LIVE-{uuid.uuid4().hex[:12]}"
    raw = (
        (SAMPLES / "ADT_A04.hl7")
        .read_bytes()
        .replace(b"|SCHED|CLINIC-N|", f"|{application}|CLINIC-N|".encode())
        .replace(b"|ADT-000123-1|", f"|{control_id}|".encode())
    )
    # The endpoint cache of a prefork listener follows the registry's signals.
    msa = wait_for(
        lambda: (answer := exchange(port, raw))[1] == "AA" and answer,
        timeout=30,
        what="an AA from the listener",
    )
    assert msa[2] == control_id
    # AA means committed: a plain connection sees both events at once.
    rows = query(
        db,
        "SELECT event_type, state, source_format FROM integration_message "
        "WHERE endpoint_id = %s ORDER BY id",
        endpoint_id,
    )
    assert rows == [
        ("patient.upserted", "queued", "hl7v2"),
        ("payer.upserted", "queued", "hl7v2"),
    ]
    assert exchange(port, raw)[1] == "AA"  # a repeat: acknowledged, stored once
    assert (
        len(query(db, "SELECT id FROM integration_message WHERE endpoint_id = %s", endpoint_id))
        == 2
    )
    server.stop()
    time.sleep(0.5)
    assert not listening(port), "the listener stops with the server"
