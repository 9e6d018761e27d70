"""Extends integration.endpoint: messages from pulled feeds and imported files."""

import json

from odoo import models

from ..exceptions import IntakeError

# The jobs that read a feed page or a chunk of a file go before the messages they
# stored (queue_job's default priority is 10): the next page or chunk is queued after
# them, and would otherwise wait for all of them to be processed.
INTAKE_JOB_PRIORITY = 5

# What a refused item or row is told, by the intake's error code; others keep the
# intake's own message (a schema error names its field path).
REFUSALS = {
    "webhook_id_conflict": "already received with other data (a newer updated_at makes "
    "it a new version)",
}


class IntegrationEndpoint(models.Model):
    _inherit = "integration.endpoint"

    def _store_item(self, sender_message_id, envelope, original, tickets=None):
        """Store ``envelope`` through the one intake, as a webhook's would be: validated,
        deduplicated on ``sender_message_id`` (the same ``original`` again is a
        duplicate, another one is refused), its reference set, its job queued in the
        same statement. Not counted against the endpoint's rate limit: the hub pulled
        it or an administrator uploaded it. Returns ``("stored", message id)``,
        ``("duplicate", message id)`` or ``("refused", "path: reason")``. ``tickets``:
        a ``_ticket_stream()`` of the page or file, to draw ids by block.
        """
        self.ensure_one()
        try:
            _status, answer = self._intake(
                self._webhook_profile(self.id),
                sender_message_id,
                envelope,
                original=json.dumps(original, sort_keys=True, ensure_ascii=False),
                from_sender=False,
                ticket=next(tickets) if tickets is not None else None,
            )
        except IntakeError as error:
            return "refused", REFUSALS.get(error.code, error.message)
        if answer["status"] == "duplicate":
            return "duplicate", answer["id"]
        return "stored", answer["id"]
