from odoo import api, models
from odoo.tools import float_compare


class StockWarehouseOrderpoint(models.Model):
    _inherit = "stock.warehouse.orderpoint"

    # Odoo deletes the manual rules its superuser created once nothing is left to order
    # (opening Inventory > Replenishment, ordering from it, the autovacuum): it takes them
    # for the report's own throwaway rules. A minimum rule of a critical supply made by
    # data files or a script run as the superuser looks the same, and the hub decides
    # replenishment from it: those rules are kept.

    def _integration_is_minimum_rule(self):
        """Rules the hub replenishes from: a critical supply with a minimum or maximum
        (the report's throwaway rules have neither)."""
        return self.filtered(
            lambda op: (
                op.product_id.integration_critical
                and (op.product_min_qty > 0 or op.product_max_qty > 0)
            )
        )

    @api.autovacuum
    def _unlink_processed_orderpoints(self):
        removed = super(
            StockWarehouseOrderpoint, self.with_context(integration_keep_minimum_rules=True)
        )._unlink_processed_orderpoints()
        # What Odoo reports removed decides what its report computes afresh.
        return removed - removed.exists()

    def action_replenish(self, force_to_max=False):
        return super(
            StockWarehouseOrderpoint, self.with_context(integration_keep_minimum_rules=True)
        ).action_replenish(force_to_max=force_to_max)

    def unlink(self):
        doomed = self
        if self.env.context.get("integration_keep_minimum_rules"):
            doomed -= self._integration_is_minimum_rule()
        return super(StockWarehouseOrderpoint, doomed).unlink()

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
