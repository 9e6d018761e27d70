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

    def action_post(self):
        result = super().action_post()
        # Subscribers hear of it once the transaction commits, with the invoices it paid.
        self.filtered(lambda p: p.state != "draft")._integration_emit("payment.registered")
        return result
