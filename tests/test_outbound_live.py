"""Outbound delivery through the real job runner to a loopback receiver."""

import importlib.util
import pathlib
import time

from conftest import query, wait_for

# The addon tests' receiver: a real HTTP server verifying signatures with standardwebhooks.
_spec = importlib.util.spec_from_file_location(
    "receiver",
    pathlib.Path(__file__).resolve().parents[1] / "addons/integration_hub/tests/receiver.py",
)
receiver_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(receiver_module)

SECRET = "whsec_" + "bGl2ZS1vdXRib3VuZC1zZWNyZXQtMjAyNg=="


def _subscribe(server, url):
    return server.subscribe_contacts(
        "Live receiver",
        url,
        SECRET,
        {
            "trigger": "on_create_or_write",
            "filter_domain": "[('name', 'like', 'Outbound live')]",
            "field_names": "name,city",
        },
    )


def test_change_is_delivered_by_the_job_runner_without_making_the_user_wait(start_server, db):
    server = start_server(workers=2, job_runner=True)
    with receiver_module.Receiver(secret=SECRET) as receiver:
        # The receiver is slow; the user saving a contact must not wait for it. The
        # margin is wide: the save may be a worker's first request of the database
        # (it loads the registry then), a few seconds on a loaded machine.
        receiver.script((200, {}, 10))
        _subscribe(server, receiver.url + "/odoo-events")
        started = time.monotonic()
        partner_id = server.rpc(
            "res.partner", "create", {"name": "Outbound live clinic", "city": "Lyon"}
        )
        saved_in = time.monotonic() - started
        assert saved_in < 8, f"saving took {saved_in:.1f} s: it waited for the receiver"
        wait_for(lambda: receiver.requests, what="the delivery")
        sent = receiver.requests[0]
        assert sent.verified, "standardwebhooks rejected the signature"
        assert sent.json["type"] == "contact.upserted"
        assert sent.json["data"] == {
            "id": str(partner_id),
            "name": "Outbound live clinic",
            "city": "Lyon",
        }
        rows = wait_for(
            lambda: query(
                db,
                """SELECT state, sender_message_id FROM integration_message
                    WHERE direction = 'out' AND result_res_id = %s AND state = 'done'""",
                partner_id,
            ),
            what="the message to be done",
        )
        assert rows == [("done", sent.headers["webhook-id"])]
        # A contact outside the subscription's filter is never sent.
        server.rpc("res.partner", "create", {"name": "Someone else"})
        time.sleep(2)
        assert len(receiver.requests) == 1


def test_a_save_that_fails_after_emitting_sends_nothing(start_server, db):
    server = start_server(workers=2, job_runner=True)
    with receiver_module.Receiver(secret=SECRET) as receiver:
        backend_id = _subscribe(server, receiver.url + "/odoo-events")
        # Another rule refuses some contacts after ours has emitted: the user's whole
        # transaction rolls back, so nothing may reach the receiver.
        model_id = server.rpc("ir.model", "search", [["model", "=", "res.partner"]])[0]
        automation_id = server.rpc(
            "base.automation",
            "create",
            {"name": "Refuse rollback contacts", "model_id": model_id, "trigger": "on_create"},
        )
        server.rpc(
            "ir.actions.server",
            "create",
            {
                "name": "Refuse",
                "model_id": model_id,
                "base_automation_id": automation_id,
                "state": "code",
                "code": "if 'rollback' in record.name: raise UserError('refused')",
            },
        )
        count_sql = "SELECT count(*) FROM integration_message WHERE backend_id = %s"
        before = query(db, count_sql, backend_id)
        try:
            server.rpc("res.partner", "create", {"name": "Outbound live rollback"})
        except RuntimeError as error:
            assert "odoo.exceptions.UserError" in str(error)
        else:
            raise AssertionError("the save was not refused")
        server.rpc("res.partner", "create", {"name": "Outbound live kept"})
        wait_for(lambda: receiver.requests, what="the delivery of the kept contact")
        time.sleep(1)
        assert [r.json["data"]["name"] for r in receiver.requests] == ["Outbound live kept"]
        assert query(db, count_sql, backend_id) == [(before[0][0] + 1,)]
