import uuid
from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

from .. import delivery, payload

TEST_EVENT = "integration.test"
# Transaction-local {(subscription id, model, record id): origin message id} noted by _emit.
PENDING_KEY = "integration_hub.emit"
# Transaction-local id of the inbound message whose processing is changing records.
ORIGIN_KEY = "integration_hub.origin"
# Subscription triggers: emitted by a flow's code, or on changes of the source model
# (through an automation rule the subscription keeps in step).
TRIGGERS = [
    ("emit", "When Odoo emits the event"),
    ("on_create", "On creation"),
    ("on_create_or_write", "On creation and update"),
]


class IntegrationSubscription(models.Model):
    """A backend subscribed to an outbound event type."""

    _name = "integration.subscription"
    _description = "Integration Subscription"
    _inherit = ["mail.thread", "integration.webhook.config.mixin"]
    _order = "backend_id, event_type_id, id"

    name = fields.Char(compute="_compute_name", store=True)
    backend_id = fields.Many2one(
        "integration.backend", required=True, ondelete="cascade", index=True, tracking=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    event_type_id = fields.Many2one(
        "integration.event.type",
        required=True,
        ondelete="restrict",
        domain=[("direction", "=", "out")],
        tracking=True,
    )
    res_model = fields.Char(related="event_type_id.res_model")
    active = fields.Boolean(default=True, tracking=True)
    trigger = fields.Selection(TRIGGERS, required=True, default="emit", tracking=True)
    trigger_field_ids = fields.Many2many(
        "ir.model.fields",
        string="On changes of",
        domain="[('model', '=', res_model)]",
        help="On update: only changes of these fields emit (any field when empty).",
    )
    filter_domain = fields.Char(
        string="Only records matching",
        default="[]",
        help="Records outside this domain emit nothing to this subscriber.",
    )
    field_names = fields.Char(
        string="Send only",
        help="Comma-separated keys of 'data' this subscriber needs (all when empty; "
        "'id' always). Data minimisation: the rest never leaves Odoo.",
    )
    redact_field_names = fields.Char(
        string="Redact",
        help="Comma-separated keys (dotted for nested ones, e.g. patient.email) removed "
        "from 'data' before it is stored or sent.",
    )
    ordered = fields.Boolean(
        string="Deliver in order per record",
        help="A message waits while an earlier message of the same record to this "
        "subscriber is queued or retrying.",
    )
    allow_echo = fields.Boolean(
        string="Send back its own changes",
        help="Off (the default): a change that an event of this backend made in Odoo is "
        "not sent back to it as the same event (a contact.upserted it sent is not "
        "returned as contact.upserted), so two systems never echo an update to each "
        "other forever. What Odoo derives from it (an invoice for its charge, a payment "
        "registered for its payment) is still sent, and other subscribers hear of every "
        "change.",
    )
    automation_id = fields.Many2one(
        "base.automation", readonly=True, copy=False, ondelete="set null"
    )
    disabled_reason = fields.Char(readonly=True, tracking=True)
    message_ids_out = fields.One2many("integration.message", "subscription_id")
    message_count = fields.Integer(compute="_compute_message_count")

    @api.depends("backend_id.name", "event_type_id.code")
    def _compute_name(self):
        for subscription in self:
            backend, event_type = subscription.backend_id, subscription.event_type_id
            subscription.name = f"{backend.name} ← {event_type.code}"

    def _compute_message_count(self):
        counts = dict(
            self.env["integration.message"]._read_group(
                [("subscription_id", "in", self.ids)], ["subscription_id"], ["__count"]
            )
        )
        for subscription in self:
            subscription.message_count = counts.get(subscription, 0)

    @api.constrains("filter_domain", "event_type_id")
    def _check_filter_domain(self):
        for subscription in self:
            try:
                domain = safe_eval(subscription.filter_domain or "[]")
                self.env[subscription.res_model].search_count(domain, limit=1)
            except Exception as exc:  # any failure means the domain is unusable
                raise ValidationError(
                    self.env._(
                        "The filter of %(name)s is not a valid domain on %(model)s: %(error)s",
                        name=subscription.name,
                        model=subscription.res_model,
                        error=exc,
                    )
                ) from exc

    @api.constrains("trigger", "event_type_id")
    def _check_trigger(self):
        for subscription in self:
            if subscription.trigger != "emit" and not subscription.res_model:
                raise ValidationError(
                    self.env._("A change trigger needs an event type with a source model.")
                )

    # Keeping the automation rule of change triggers in step ---------------------------

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions._sync_automation()
        return subscriptions

    def write(self, vals):
        result = super().write(vals)
        if {"trigger", "trigger_field_ids", "filter_domain", "active", "event_type_id"} & set(vals):
            self._sync_automation()
        return result

    def unlink(self):
        self.automation_id.sudo().unlink()
        return super().unlink()

    def _sync_automation(self):
        automations = self.env["base.automation"].sudo()
        for subscription in self:
            automation = subscription.automation_id.sudo()
            if subscription.trigger == "emit" or not subscription.active:
                automation.unlink()
                continue
            values = {
                "name": self.env._("Integration: %(name)s", name=subscription.name),
                "model_id": subscription.event_type_id.model_id.id,
                "trigger": subscription.trigger,
                "trigger_field_ids": [(6, 0, subscription.trigger_field_ids.ids)],
                "filter_domain": subscription.filter_domain or "[]",
            }
            if automation:
                automation.write(values)
                continue
            automation = automations.create(values)
            self.env["ir.actions.server"].sudo().create(
                {
                    "name": values["name"],
                    "model_id": values["model_id"],
                    "base_automation_id": automation.id,
                    "state": "code",
                    "code": f"records._integration_emit({subscription.event_type_id.code!r}, "
                    f"subscription_id={subscription.id})",
                }
            )
            subscription.automation_id = automation

    # Emitting ---------------------------------------------------------------------

    @api.model
    @tools.ormcache("res_model", "event_code")
    def _subscription_ids(self, res_model, event_code):
        """Active subscriptions of active backends that flows emit ``event_code`` to."""
        return tuple(
            self.sudo()
            .search(
                [
                    ("event_type_id.code", "=", event_code),
                    ("event_type_id.direction", "=", "out"),
                    ("event_type_id.res_model", "=", res_model),
                    ("trigger", "=", "emit"),
                    ("backend_id.state", "in", ("active", "paused")),
                ]
            )
            .ids
        )

    def _emit(self, records):
        """Note that the subscribers must hear of ``records``; the messages are written
        when the transaction commits (see _write_emitted), so they describe the records
        as committed, a record saved several times in one transaction is sent once, and
        a transaction that rolls back emits nothing."""
        pending = self.env.cr.precommit.data.setdefault(PENDING_KEY, {})
        if not pending:
            self.env.cr.precommit.add(self.sudo()._write_emitted)
        origin = self.env.cr.precommit.data.get(ORIGIN_KEY)
        for subscription in self:
            for record_id in records.ids:
                key = (subscription.id, records._name, record_id)
                # A record also changed by something else than the message: no known origin.
                pending[key] = origin if pending.get(key, origin) == origin else None

    def _write_emitted(self):
        """Precommit hook: one outbound message per (subscription, record) noted in this
        transaction, queued for delivery."""
        pending = self.env.cr.precommit.data.pop(PENDING_KEY, {})
        origins = self.env["integration.message"].browse(
            {origin for origin in pending.values() if origin}
        )
        origin_events = {origin.id: (origin.backend_id, origin.event_type) for origin in origins}
        by_subscription = defaultdict(lambda: defaultdict(list))
        for (subscription_id, model, record_id), origin in pending.items():
            by_subscription[subscription_id][model].append((record_id, origin))
        values = []
        now = fields.Datetime.now()
        for subscription_id, models_ids in by_subscription.items():
            subscription = self.browse(subscription_id).exists()
            if not subscription or subscription.backend_id.state == "draft":
                continue
            event_type = subscription.event_type_id
            keep = delivery.split_names(subscription.field_names)
            redact = delivery.split_names(subscription.redact_field_names)
            for model, ids_origins in models_ids.items():
                origin_of = dict(ids_origins)
                records = self.env[model].browse(list(origin_of)).exists()
                for record in subscription._matching(records):
                    origin = origin_of[record.id]
                    if (
                        origin
                        and not subscription.allow_echo
                        and origin_events[origin] == (subscription.backend_id, event_type.code)
                    ):
                        continue  # the backend's own event, not sent back to it as it came
                    data = delivery.minimise(
                        event_type._serialize(record, subscription), keep, redact
                    )
                    values.append(
                        dict(
                            subscription._message_values(
                                event_type.code, event_type.version, now, data, record
                            ),
                            cause_message_id=origin or False,
                        )
                    )
        self._queue_messages(values)
        # Precommit hooks run after the transaction's flush: flush what they wrote.
        self.env.flush_all()

    def _matching(self, records):
        """The records this subscriber may hear of: its company's, within its filter."""
        records = records.sudo()
        company = self.backend_id.company_id
        if "company_id" in records._fields:
            records = records.filtered(lambda r: not r.company_id or r.company_id == company)
        domain = safe_eval(self.filter_domain or "[]")
        return records.filtered_domain(domain) if domain else records

    def _message_values(self, event_code, version, timestamp, data, record=None):
        body = delivery.envelope(event_code, version, timestamp, data)
        return {
            "direction": "out",
            "backend_id": self.backend_id.id,
            "subscription_id": self.id,
            "event_type": event_code,
            "event_type_id": self.event_type_id.id,
            # The webhook-id: the same on every attempt, so receivers deduplicate.
            "sender_message_id": f"msg_{uuid.uuid4().hex}",
            "payload": body.decode(),
            "payload_sha256": payload.sha256(body),
            "reference": self.env["integration.message"]._reference_of(data)
            or (record.display_name if record else False),
            "result_model": record._name if record else False,
            "result_res_id": record.id if record else False,
            "ordering_key": f"{record._name},{record.id}" if record else False,
        }

    @api.model
    def _queue_messages(self, values):
        messages = self.env["integration.message"].sudo().create(values)
        messages._enqueue()
        return messages.with_env(self.env)

    @api.model
    def _emit_test(self, backend):
        """An integration.test event to ``backend``, outside any subscription."""
        body = delivery.envelope(
            TEST_EVENT,
            1,
            fields.Datetime.now(),
            {"backend": backend.code, "message": "Test event from Odoo"},
        )
        return self._queue_messages(
            [
                {
                    "direction": "out",
                    "backend_id": backend.id,
                    "event_type": TEST_EVENT,
                    "sender_message_id": f"msg_{uuid.uuid4().hex}",
                    "payload": body.decode(),
                    "payload_sha256": payload.sha256(body),
                }
            ]
        )

    def _disable_gone(self, message):
        """The receiver answered 410 Gone: stop sending and tell the backend's owner."""
        self.ensure_one()
        reason = self.env._(
            "Disabled: the receiver answered 410 Gone to %(message)s.", message=message.name
        )
        self.sudo().write({"active": False, "disabled_reason": reason})
        self.backend_id._notify_owner(
            self.env._(
                "Subscription %(name)s was disabled: the receiver answered 410 Gone, it no "
                "longer accepts these events. Enable it again once the receiver does.",
                name=self.name,
            )
        )

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_message_action"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        return action
