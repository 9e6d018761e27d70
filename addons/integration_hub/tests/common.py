import json
import uuid
from datetime import UTC, datetime
from unittest.mock import patch

import requests
from standardwebhooks.webhooks import Webhook

import odoo.tests.common as odoo_test_common

from odoo.addons.queue_job.job import Job

from .. import payload

# queue_job 18.0.4.x's test helpers register themselves in a table that Odoo 18 only
# gained after July 2025; give older 18.0 trees an empty one so trap_jobs imports.
odoo_test_common.__dict__.setdefault("SETATTR_SOURCES", {})
from odoo.addons.queue_job.tests.common import trap_jobs  # noqa: E402,F401

HMAC_SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLWludGVncmF0aW9uLWh1Yg=="
OTHER_SECRET = "whsec_" + "YW5vdGhlci1zZWNyZXQtZm9yLWludGVncmF0aW9u"


def contact_event(contact_id="C-1", name="Northside Clinic", **data):
    return {
        "type": "contact.upserted",
        "timestamp": "2026-11-21T09:00:00Z",
        "data": dict({"id": contact_id, "name": name}, **data),
    }


def signed_headers(body, secret=HMAC_SECRET, msg_id=None, timestamp=None):
    """Standard Webhooks headers for ``body``, signed by the standardwebhooks library."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp or datetime.now(UTC)
    if isinstance(body, bytes):
        body = body.decode()
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, timestamp, body),
    }


class RealRequestsMixin:
    """Odoo's test shim around requests raises any timeout under 10 s to 10 s and cannot
    read (connect, read) timeout pairs: give these tests requests' own send. They only
    call the loopback receiver of tests/receiver.py, and the delivery client refuses
    anything else that is not a public address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        patcher = patch.object(requests.sessions.Session, "send", odoo_test_common._super_send)
        patcher.start()
        cls.addClassCleanup(patcher.stop)


class RpcMixin:
    """Calls over JSON-RPC as a user would make them (mixed into an HttpCase): the
    buttons a form hides are still methods anyone may call."""

    def _rpc(self, user, model, method, *args, **kwargs):
        """``(True, result)`` or ``(False, the error's class name)`` of ``model.method(*args,
        **kwargs)`` called by ``user`` (new_test_user's password is the login)."""
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.env.cr.dbname,
                    user.id,
                    user.login,
                    model,
                    method,
                    list(args),
                    kwargs,
                ],
            },
            "id": uuid.uuid4().hex,
        }
        answer = self.url_open(
            "/jsonrpc", data=json.dumps(body), headers={"Content-Type": "application/json"}
        ).json()
        if "error" in answer:
            return False, answer["error"]["data"]["name"]
        return True, answer.get("result")


class IntegrationHubCase:
    """Factories shared by the hub's tests (mixed into Odoo test cases)."""

    @classmethod
    def _setup_hub(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.contact_type = cls.env.ref("integration_hub.integration_event_type_contact_upserted")
        cls.backend = cls._create_backend()
        cls.endpoint = cls._create_endpoint(cls.backend)

    @classmethod
    def _flow_event_types(cls, module, direction="in"):
        """The event types ``module`` declares in its data (the one list of a flow)."""
        declared = cls.env["ir.model.data"].search(
            [("module", "=", module), ("model", "=", "integration.event.type")]
        )
        return (
            cls.env["integration.event.type"]
            .browse(declared.mapped("res_id"))
            .filtered(lambda t: t.direction == direction)
        )

    @classmethod
    def _create_backend(cls, **values):
        return cls.env["integration.backend"].create(
            dict(
                {
                    "name": "Test scheduling",
                    "code": f"test-{uuid.uuid4().hex[:8]}",
                    "system_type": "scheduling",
                    "state": "active",
                    "max_attempts": 3,
                    "backoff_schedule": "10, 60",
                },
                **values,
            )
        )

    @classmethod
    def _create_endpoint(cls, backend, secret=HMAC_SECRET, scheme="v1", **values):
        endpoint = cls.env["integration.endpoint"].create(
            dict(
                {
                    "name": "Test contacts",
                    "backend_id": backend.id,
                    "event_type_ids": [(6, 0, cls.contact_type.ids)],
                },
                **values,
            )
        )
        if secret:
            cls.env["integration.endpoint.secret"].create(
                {"endpoint_id": endpoint.id, "scheme": scheme, "secret": secret}
            )
        return endpoint

    @classmethod
    def _serve_outbound(cls, backend, path="/hooks", **values):
        """A loopback receiver (tests/receiver.py) for ``backend``'s deliveries, stopped
        with the class; other subscriptions in the database are switched off so that
        only the class's own subscribers hear of its records."""
        from .receiver import Receiver

        receiver = Receiver(secret=HMAC_SECRET)
        receiver.__enter__()
        cls.addClassCleanup(receiver.__exit__, None, None, None)
        backend.write(
            dict(
                {
                    "outbound_url": receiver.url + path,
                    "outbound_allow_private": True,
                    "outbound_secret": HMAC_SECRET,
                },
                **values,
            )
        )
        cls.env["integration.subscription"].search([]).write({"active": False})
        return receiver

    def _track_changes(self):
        """Track changes from here on, as the UI does (the factories run without)."""
        self.env = self.env(context=dict(self.env.context, tracking_disable=False))

    @classmethod
    def _create_message(cls, event=None, endpoint=None):
        """A stored, queued inbound message, as the webhook controller leaves it."""
        event = event or contact_event()
        return cls._store_event(event, endpoint or cls.endpoint, reference=event["data"].get("id"))

    @classmethod
    def _store_event(cls, event, endpoint, env=None, reference=None):
        """A stored, queued inbound message of ``event`` on ``endpoint``, stored in
        ``env`` (the flows' tests: the service user's, or the endpoint's company)."""
        env = env or cls.env
        body = json.dumps(event)
        event_type = env["integration.event.type"].search(
            [("code", "=", event["type"]), ("direction", "=", "in")]
        )
        message = env["integration.message"].create(
            {
                "backend_id": endpoint.backend_id.id,
                "endpoint_id": endpoint.id,
                "event_type": event["type"],
                "event_type_id": event_type.id,
                "sender_message_id": f"msg_{uuid.uuid4().hex}",
                "reference": reference,
                "payload": body,
                "payload_sha256": payload.sha256(body.encode()),
            }
        )
        message._enqueue()
        return message

    def _perform_job(self, message):
        """Run the message's current job as the job runner would, in this transaction."""
        job = Job.load(self.env, message.job_id.uuid)
        job.set_started()
        job.store()
        result = job.perform()
        job.set_done(result=result)
        job.store()
        self._end_transaction()
        message.invalidate_recordset()
        return result

    def _end_transaction(self):
        """What a commit would run, without committing: flushes, then the precommit
        hooks (the chatter's tracking of changes)."""
        self.env.flush_all()
        self.env.cr.flush()

    def _columns_holding(self, *needles):
        """``table.column`` of every text column of every table of the database whose
        value holds one of ``needles`` (seen by this transaction, uncommitted rows too)."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            """SELECT c.table_name, array_agg(c.column_name::text)
                 FROM information_schema.columns c
                 JOIN information_schema.tables t
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                  AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
                GROUP BY c.table_name"""
        )
        patterns = [f"%{needle}%" for needle in needles]
        found = []
        for table, columns in cr.fetchall():
            for column in columns:
                cr.execute(
                    f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE ANY(%s) LIMIT 1',
                    (patterns,),
                )
                if cr.fetchone():
                    found.append(f"{table}.{column}")
        return found

    def _partners(self, external_id, backend=None):
        return self.env["integration.binding"]._to_internal(
            backend or self.backend, "res.partner", external_id
        )
