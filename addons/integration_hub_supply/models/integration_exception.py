from odoo import api, fields, models
from odoo.exceptions import UserError


class IntegrationException(models.Model):
    _inherit = "integration.exception"

    kind = fields.Selection(
        selection_add=[
            ("supplier_rejected", "Rejected by the supplier"),
            ("supplier_changed", "Changed by the supplier"),
            ("quantity_mismatch", "Quantity mismatch"),
        ],
        ondelete=dict.fromkeys(
            ("supplier_rejected", "supplier_changed", "quantity_mismatch"), "set default"
        ),
    )
    follow_up = fields.Boolean(
        readonly=True,
        help="Opened by a message that was processed: a buyer decides what to do; "
        "retrying the message does not close it.",
    )

    @api.model
    def _open_follow_up(self, message, kind, explanation, record=None):
        """Open an exception for a person on a processed message, once per cause: a
        replay of the message finds the one already opened, even if closed since."""
        existing = self.search(
            [
                ("message_id", "=", message.id),
                ("kind", "=", kind),
                ("explanation", "=", explanation),
                ("follow_up", "=", True),
            ],
            limit=1,
        )
        # Opened by the hub's processing: identifying fields are written with elevated rights.
        return existing or self.sudo().create(
            {
                "message_id": message.id,
                "kind": kind,
                "explanation": explanation,
                "follow_up": True,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
            }
        )

    @api.model
    def _identifying_fields(self):
        return super()._identifying_fields() | {"follow_up"}

    def _awaiting_success(self):
        # A buyer's decision (rejected line, short delivery) is not resolved by the
        # message succeeding, nor updated by its failure: it is what a success reported.
        return super()._awaiting_success().filtered(lambda e: not e.follow_up)

    def action_mark_resolved(self):
        """A buyer's follow-up is settled (change accepted, backorder cancelled or kept):
        nothing to process again, the message was processed."""
        not_follow_up = self.filtered(lambda e: not e.follow_up)
        if not_follow_up:
            raise UserError(
                self.env._(
                    "Only a buyer's follow-up is marked resolved by hand; %(names)s resolve "
                    "when their message is processed (Retry).",
                    names=", ".join(not_follow_up.mapped("name")),
                )
            )
        self._check_open()
        self._check_may_resolve()
        self._close("resolved", self.env._("Marked resolved by %(user)s.", user=self.env.user.name))
        return True
