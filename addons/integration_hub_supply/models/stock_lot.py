from odoo import api, models


class StockLot(models.Model):
    _inherit = "stock.lot"

    @api.model
    def _integration_find_or_create(self, product, name, company):
        """The lot ``name`` of ``product`` in ``company``, created when first reported."""
        lot = self.search(
            [
                ("product_id", "=", product.id),
                ("name", "=", name),
                ("company_id", "in", (company.id, False)),
            ],
            limit=1,
        )
        return lot or self.create(
            {"product_id": product.id, "name": name, "company_id": company.id}
        )
