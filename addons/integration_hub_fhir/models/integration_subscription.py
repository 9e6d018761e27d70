"""Extends integration.subscription: the payload format "FHIR R4"."""

import json

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.integration_hub import payload

FHIR_EVENTS = ("invoice.posted", "payment.registered")


class IntegrationSubscription(models.Model):
    _inherit = "integration.subscription"

    payload_format = fields.Selection(
        [("canonical", "Canonical JSON event"), ("fhir_r4", "FHIR R4")],
        required=True,
        default="canonical",
        tracking=True,
        help="FHIR R4 sends invoice.posted as an Invoice and payment.registered as a "
        "PaymentReconciliation resource instead of the hub's JSON event.",
    )

    @api.constrains("payload_format", "event_type_id")
    def _check_payload_format(self):
        for subscription in self.filtered(lambda s: s.payload_format == "fhir_r4"):
            if subscription.event_type_id.code not in FHIR_EVENTS:
                raise ValidationError(
                    self.env._(
                        "Only %(events)s can be sent as FHIR R4.", events=", ".join(FHIR_EVENTS)
                    )
                )

    def _message_values(self, event_code, version, timestamp, data, record=None):
        values = super()._message_values(event_code, version, timestamp, data, record)
        if self.payload_format == "fhir_r4" and record:
            resource = self.env["integration.serializer.fhir"]._fhir_resource(
                event_code, record, self
            )
            body = json.dumps(resource, separators=(",", ":")).encode()
            values.update(payload=body.decode(), payload_sha256=payload.sha256(body))
        return values
