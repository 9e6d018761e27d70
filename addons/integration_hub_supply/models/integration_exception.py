from odoo import api, fields, models

from ..exceptions import UnmappedCodeError

# Event types of this addon: the Supplier exceptions menu shows theirs.
SUPPLY_EVENT_TYPES = (
    "item.upserted",
    "supplier.upserted",
    "catalog.price_updated",
    "supply.consumed",
    "purchase.requested",
    "supplier.acknowledged",
    "asn.received",
    "goods.received",
)


class IntegrationException(models.Model):
    _inherit = "integration.exception"

    kind = fields.Selection(
        selection_add=[
            ("supplier_rejected", "Rejected by the supplier"),
            ("supplier_changed", "Changed by the supplier"),
            ("quantity_mismatch", "Quantity mismatch"),
        ],
        ondelete={
            "supplier_rejected": "set default",
            "supplier_changed": "set default",
            "quantity_mismatch": "set default",
        },
    )
    follow_up = fields.Boolean(
        readonly=True,
        help="Opened by a message that was processed: a buyer decides what to do; "
        "retrying the message does not close it.",
    )
    code_kind = fields.Char(
        string="Unmapped code kind", readonly=True, help="item, uom, location or department."
    )
    external_code = fields.Char(string="Unmapped code", readonly=True)

    @api.model
    def _open_for(self, message, error):
        exception = super()._open_for(message, error)
        if isinstance(error, UnmappedCodeError):
            exception.write({"code_kind": error.code_kind, "external_code": error.code})
        return exception

    @api.model
    def _open_follow_up(self, message, kind, explanation):
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
        return existing or self.create(
            {
                "message_id": message.id,
                "kind": kind,
                "explanation": explanation,
                "follow_up": True,
            }
        )

    def _resolve_by_success(self):
        # A buyer's decision (rejected line, short delivery) is not resolved by the
        # message succeeding: it is what the success reported.
        awaiting_success = self.filtered(lambda e: not e.follow_up)
        return super(IntegrationException, awaiting_success)._resolve_by_success()

    def action_map_and_retry(self):
        """Open the wizard that maps the unknown code, then replays the message."""
        self.ensure_one()
        self._check_open()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Map and retry"),
            "res_model": "integration.supply.map.code",
            "view_mode": "form",
            "target": "new",
            "context": {"default_exception_id": self.id},
        }
