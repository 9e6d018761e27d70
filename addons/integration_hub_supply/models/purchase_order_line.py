from odoo import fields, models


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    integration_ack_state = fields.Selection(
        [("accepted", "Accepted"), ("rejected", "Rejected"), ("changed", "Changed")],
        string="Supplier acknowledgement",
        readonly=True,
        copy=False,
    )
    integration_ack_qty = fields.Float(
        string="Acknowledged quantity", digits="Product Unit of Measure", readonly=True, copy=False
    )
    integration_ack_date = fields.Date(string="Promised date", readonly=True, copy=False)
