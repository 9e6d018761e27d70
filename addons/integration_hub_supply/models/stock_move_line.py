from odoo import fields, models


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    integration_asn_qty = fields.Float(
        string="Announced quantity",
        digits="Product Unit of Measure",
        readonly=True,
        help="Quantity the supplier's advance shipping notice announced for this line.",
    )
