"""What test_migration_live runs inside `odoo-bin shell`, on the old addons then on
today's: each function takes the shell's ``env`` and returns a dict the test reads.

Kept apart from the test because it runs in Odoo's process, not pytest's.
"""

import json
import uuid

from odoo import Command

from odoo.addons.integration_hub import payload
from odoo.addons.queue_job.job import Job

SERVICE_CODE = "99299-MIG"
ITEM_CODE = "SKU-MIGRATION"


def _message(env, endpoint, event):
    """A stored, queued message of ``event``, as the webhook controller leaves it."""
    body = json.dumps(event)
    event_type = env["integration.event.type"].search([("code", "=", event["type"])])
    message = env["integration.message"].create(
        {
            "backend_id": endpoint.backend_id.id,
            "endpoint_id": endpoint.id,
            "event_type": event["type"],
            "event_type_id": event_type.id,
            "sender_message_id": f"msg_{uuid.uuid4().hex}",
            "payload": body,
            "payload_sha256": payload.sha256(body.encode()),
        }
    )
    message._enqueue()
    return message


def _process(env, endpoint, event):
    """Store ``event`` and run its processing job's method, as the job runner would."""
    message = _message(env, endpoint, event)
    message._job_process()
    env.flush_all()
    return message


def _event(event_type, **data):
    return {"type": event_type, "timestamp": "2026-11-21T09:00:00Z", "data": data}


def create_old_exceptions(env):
    """On the old addons (592d5d3): a charge with an unmapped service code and a
    consumption with an unmapped item, each left in exception by the old handlers."""
    env = env(su=True, context=dict(env.context, tracking_disable=True))
    types = env["integration.event.type"].search(
        [
            (
                "code",
                "in",
                ("patient.upserted", "payer.upserted", "charge.captured", "supply.consumed"),
            )
        ]
    )
    env.ref("base.USD").active = True
    env.company.currency_id = env.ref("base.USD")
    backend = env["integration.backend"].create(
        {
            "name": "Migration clinic",
            "code": "migration-clinic",
            "system_type": "billing",
            "state": "active",
            "latency_tier": "realtime",
            "charge_auto_approve": True,
            "invoice_auto_post": True,
        }
    )
    endpoint = env["integration.endpoint"].create(
        {
            "name": "Migration clinic",
            "backend_id": backend.id,
            "event_type_ids": [Command.set(types.ids)],
        }
    )
    or2 = env["stock.location"].create(
        {
            "name": "OR-2 migration",
            "usage": "internal",
            "location_id": env["stock.warehouse"].search([], limit=1).lot_stock_id.id,
        }
    )
    env["integration.code.map"].create(
        {
            "backend_id": backend.id,
            "kind": "location",
            "external_code": "OR-2",
            "record_ref": f"stock.location,{or2.id}",
        }
    )
    env["integration.code.map"].create(
        {
            "backend_id": backend.id,
            "kind": "uom",
            "external_code": "Units",
            "record_ref": f"uom.uom,{env.ref('uom.product_uom_unit').id}",
        }
    )
    _process(env, endpoint, _event("patient.upserted", id="PAT-MIG", name="Migration patient"))
    _process(env, endpoint, _event("payer.upserted", id="PAY-MIG", name="Migration payer"))
    charge = _process(
        env,
        endpoint,
        _event(
            "charge.captured",
            id="CHG-MIG",
            patient_id="PAT-MIG",
            payer_id="PAY-MIG",
            service_code=SERVICE_CODE,
            quantity="1",
            unit_price="120.00",
            currency="USD",
            service_date="2026-11-21",
            patient_share="20.00",
            payer_share="100.00",
        ),
    )
    consumption = _process(
        env,
        endpoint,
        _event(
            "supply.consumed",
            id="CON-MIG",
            item_code=ITEM_CODE,
            quantity="2",
            uom="Units",
            location_code="OR-2",
            consumed_at="2026-11-21T08:15:00Z",
        ),
    )
    # Each flow's own fields then (billing's override also wrote supply's errors).
    old_fields = ["kind", "unmapped_code_kind", "unmapped_code", "code_kind", "external_code"]
    return {
        "charge": [charge.id, charge.state, charge.exception_ids.read(old_fields, load=None)],
        "consumption": [
            consumption.id,
            consumption.state,
            consumption.exception_ids.read(old_fields, load=None),
        ],
    }


def map_and_retry(env, charge_message_id, consumption_message_id):
    """On today's addons, after the update: a billing clerk maps the service code and a
    stock user the item, each with the one wizard; then the messages' jobs run as the
    job runner would run them."""
    env = env(context=dict(env.context, tracking_disable=True))
    users = env["res.users"].with_context(no_reset_password=True)
    clerk = users.create(
        {
            "name": "Migration billing clerk",
            "login": "migration-clerk",
            "groups_id": [Command.set([env.ref("account.group_account_invoice").id])],
        }
    )
    storekeeper = users.create(
        {
            "name": "Migration stock user",
            "login": "migration-stock",
            "groups_id": [Command.set([env.ref("stock.group_stock_user").id])],
        }
    )
    messages = env["integration.message"].browse([charge_message_id, consumption_message_id])
    result = {
        "before": {
            str(m.id): [
                m.state,
                m.name,
                [
                    (x.name, x.kind, x.code_kind_id.code, x.external_code, x.state)
                    for x in m.exception_ids
                ],
            ]
            for m in messages
        }
    }
    service = env["product.product"].create(
        {"name": "Migration visit", "type": "service", "list_price": 1.0, "taxes_id": False}
    )
    item = env["product.product"].create({"name": "Migration gloves", "type": "consu"})
    for user, message, record in (
        (clerk, messages[0], service),
        (storekeeper, messages[1], item),
    ):
        exception = message.exception_ids.filtered(lambda e: e.state == "open")
        action = exception.with_user(user).action_map_code()
        wizard = (
            env[action["res_model"]]
            .with_user(user)
            .with_context(action["context"])
            .create({"res_id": record.id})
        )
        wizard.action_map_and_retry()
    env.flush_all()
    for message in messages:
        result[f"queued {message.id}"] = message.state
        job = Job.load(env, message.job_id.uuid)
        job.set_started()
        job.store()
        job.set_done(result=job.perform())
        job.store()
        env.flush_all()
    env.invalidate_all()
    result["after"] = {
        str(m.id): [
            m.state,
            m.last_error or "",
            [(x.state, x.resolved_by_id.login) for x in m.exception_ids],
            m.result_model or "",
        ]
        for m in messages
    }
    charge = env["integration.charge"].search([("name", "=", "CHG-MIG")])
    result["invoice_states"] = charge.invoice_line_ids.move_id.mapped("state")
    return result
