from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    integration_charge_id = fields.Many2one(
        "integration.charge", string="Charge", readonly=True, index="btree_not_null", copy=False
    )
    integration_share = fields.Selection(
        [("patient", "Patient"), ("payer", "Payer")], string="Share", readonly=True, copy=False
    )
