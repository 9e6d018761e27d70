from odoo import fields, models


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    integration_ack_ref = fields.Char(
        string="Supplier acknowledgement",
        readonly=True,
        copy=False,
        help="Id of the supplier's last acknowledgement of this order.",
    )
    integration_ack_state = fields.Selection(
        [("accepted", "Accepted"), ("rejected", "Rejected"), ("changed", "Changed")],
        string="Acknowledgement status",
        readonly=True,
        copy=False,
    )

    def button_approve(self, force=False):
        result = super().button_approve(force=force)
        # Confirmed directly or approved later: the supplier hears of it at commit.
        self.filtered(lambda o: o.state in ("purchase", "done"))._integration_emit(
            "purchase.order.confirmed"
        )
        return result
