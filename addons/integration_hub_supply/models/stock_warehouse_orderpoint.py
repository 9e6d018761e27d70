from odoo import models
from odoo.tools import float_compare


class StockWarehouseOrderpoint(models.Model):
    _inherit = "stock.warehouse.orderpoint"

    def _integration_on_hand(self):
        self.ensure_one()
        product = self.product_id.with_context(location=self.location_id.id)
        product.invalidate_recordset(["qty_available"])
        return self.product_id.uom_id._compute_quantity(
            product.qty_available, self.product_uom, round=False
        )

    def _integration_below_minimum(self):
        self.ensure_one()
        return (
            float_compare(
                self._integration_on_hand(),
                self.product_min_qty,
                precision_rounding=self.product_uom.rounding,
            )
            < 0
        )

    def _job_integration_replenish(self, consumption=None):
        """Replenish a critical supply below its minimum"""
        self.ensure_one()
        decision = self.env["integration.supply.replenishment"]._decide(self, consumption)
        return f"{decision.decision}: {decision.reason}"
