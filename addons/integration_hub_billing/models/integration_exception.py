from odoo import api, fields, models
from odoo.exceptions import UserError

BILLING_EVENT_TYPES = (
    "patient.upserted",
    "payer.upserted",
    "appointment.scheduled",
    "appointment.rescheduled",
    "appointment.cancelled",
    "appointment.no_show",
    "appointment.completed",
    "charge.captured",
    "payment.posted",
    "refund.issued",
    "claim.status_changed",
)


class IntegrationException(models.Model):
    _inherit = "integration.exception"

    kind = fields.Selection(
        selection_add=[
            ("unknown_payer", "Unknown payer"),
            ("amount_mismatch", "Amount mismatch"),
            ("unmatched_payment", "Unmatched payment"),
        ],
        ondelete={
            "unknown_payer": "set default",
            "amount_mismatch": "set default",
            "unmatched_payment": "set default",
        },
    )
    unmapped_code_kind = fields.Char(readonly=True, help="What the unmapped code names.")
    unmapped_code = fields.Char(readonly=True)

    @api.model
    def _open_for(self, message, error):
        exception = super()._open_for(message, error)
        if getattr(error, "code_kind", None):
            exception.write({"unmapped_code_kind": error.code_kind, "unmapped_code": error.code})
        return exception

    def action_map_code(self):
        """Open the wizard that maps the unknown service code, then retries."""
        self.ensure_one()
        if not self.unmapped_code_kind:
            return super().action_map_code()
        self._check_open()
        if self.kind != "unmapped_code" or self.unmapped_code_kind != "service":
            raise UserError(self.env._("Only an unmapped service code can be mapped here."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Map code and retry"),
            "res_model": "integration.map.code.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_exception_id": self.id},
        }
