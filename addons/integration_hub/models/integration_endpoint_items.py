"""Extends integration.endpoint: messages from pulled feeds and imported files."""

import json

from odoo import models

from .. import payload
from .integration_event_type import validation_errors


class IntegrationEndpoint(models.Model):
    _inherit = "integration.endpoint"

    def _store_item(self, sender_message_id, envelope, validators=None):
        """Store ``envelope`` as a queued message of this endpoint, as a webhook would
        be: validated against its event type's schema, deduplicated on
        ``sender_message_id``. Returns ``("stored", message)``, ``("duplicate",
        None)`` or ``("refused", "path: reason")``.

        ``validators`` (code -> (event type, validator)) saves compiling the schemas
        again for each item of a page or a file.
        """
        self.ensure_one()
        if validators is None:
            validators = self._item_validators()
        event_type, validator = validators.get(envelope["type"], (None, None))
        if validator:
            errors = validation_errors(validator, envelope["data"])
            if errors:
                return "refused", errors[0]
        # Stored as the webhook controller stores: in the hub's name, with its rights.
        messages = (
            self.env["integration.message"]
            .sudo()
            .with_context(allowed_company_ids=[self.company_id.id], tracking_disable=True)
        )
        if messages.search_count(
            [("endpoint_id", "=", self.id), ("sender_message_id", "=", sender_message_id)]
        ):
            return "duplicate", None
        body = json.dumps(envelope)
        message = messages.create(
            {
                "direction": "in",
                "backend_id": self.backend_id.id,
                "endpoint_id": self.id,
                "event_type": envelope["type"],
                "event_type_id": event_type.id if event_type else False,
                "sender_message_id": sender_message_id,
                "correlation_id": sender_message_id,
                "payload": body,
                "payload_sha256": payload.sha256(body.encode()),
                "state": "queued" if event_type else "ignored",
            }
        )
        if event_type:
            message._enqueue()
        return "stored", message

    def _item_validators(self):
        self.ensure_one()
        return {t.code: (t, t._validator()) for t in self.sudo().event_type_ids}
