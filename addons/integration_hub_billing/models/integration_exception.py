from odoo import fields, models


class IntegrationException(models.Model):
    _inherit = "integration.exception"

    kind = fields.Selection(
        selection_add=[
            ("unknown_payer", "Unknown payer"),
            ("amount_mismatch", "Amount mismatch"),
            ("unmatched_payment", "Unmatched payment"),
        ],
        ondelete=dict.fromkeys(
            ("unknown_payer", "amount_mismatch", "unmatched_payment"), "set default"
        ),
    )
