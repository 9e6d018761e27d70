from odoo import api, fields, models


class StockLocation(models.Model):
    _inherit = "stock.location"

    integration_consumption = fields.Boolean(
        string="Clinical consumption",
        help="Where supplies consumed by procedures go (one per company).",
    )

    @api.model
    def _integration_consumption_location(self, company):
        """The company's clinical consumption location, created on first use."""
        location = self.search(
            [("integration_consumption", "=", True), ("company_id", "=", company.id)], limit=1
        )
        if location:
            return location
        return self.sudo().create(
            {
                "name": self.env._("Clinical consumption"),
                "usage": "inventory",
                "location_id": self.env.ref("stock.stock_location_locations_virtual").id,
                "company_id": company.id,
                "integration_consumption": True,
            }
        )
