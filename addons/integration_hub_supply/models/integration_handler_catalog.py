from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerCatalog(models.AbstractModel):
    """catalog.price_updated: vendor prices, one bound price line per catalogue line."""

    _name = "integration.handler.catalog"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: catalog.price_updated"

    def _handle(self, message, data):
        supplier = self._supplier(message, data["supplier_id"])
        currency = self.env["res.currency"].search([("name", "=", data["currency"])], limit=1)
        if not currency:
            raise IntegrationBusinessError(
                self.env._(
                    "Currency '%(currency)s' is unknown or not active in Odoo.",
                    currency=data["currency"],
                ),
                kind="unknown_record",
            )
        valid_from = self._date(data.get("valid_from"), "valid_from")
        prices = self.env["product.supplierinfo"]
        for index, line in enumerate(data["lines"], start=1):
            product = self._item(message, line["item_code"])
            where = f"lines/{index}"
            values = {
                "partner_id": supplier.id,
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_id": product.id,
                "product_code": line.get("supplier_item_code") or False,
                "price": float(self._decimal(line["price"], f"{where}/price")),
                "min_qty": float(
                    self._decimal(line.get("min_quantity", "0"), f"{where}/min_quantity")
                ),
                "delay": int(line.get("lead_time_days") or 0),
                "currency_id": currency.id,
                "date_start": valid_from or False,
                "company_id": message.company_id.id,
            }
            # One price line per catalogue, supplier and item: a replay rewrites it.
            external_id = f"{data['id']}/{data['supplier_id']}/{line['item_code']}"
            prices |= self._upsert_bound(message, "product.supplierinfo", external_id, values)
        return prices[:1]
