from odoo import fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    integration_backend_id = fields.Many2one(
        "integration.backend",
        string="Posted by",
        readonly=True,
        index="btree_not_null",
        copy=False,
        help="The external system that reported this payment.",
    )
