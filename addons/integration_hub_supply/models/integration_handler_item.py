from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerItem(models.AbstractModel):
    """item.upserted: a stocked product, bound to the catalogue's item id."""

    _name = "integration.handler.item"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: item.upserted"

    def _handle(self, message, data):
        item_id = data["id"]
        product = self._bound(message, "product.product", item_id)
        values = {
            "name": data["name"],
            "type": "consu",
            "is_storable": True,
            "company_id": message.company_id.id,
            "default_code": item_id,
        }
        if "uom" in data:
            uom = self._map_supply_code(message, "uom", data["uom"])
            if product and product.uom_id.category_id != uom.category_id:
                raise IntegrationBusinessError(
                    self.env._(
                        "Item %(item)s is counted in %(unit)s; it cannot change to %(uom)s, "
                        "a unit of another category.",
                        item=item_id,
                        unit=product.uom_id.name,
                        uom=uom.name,
                    ),
                    kind="conflict",
                )
            values.update(uom_id=uom.id, uom_po_id=uom.id)
        if "critical" in data:
            values["integration_critical"] = bool(data["critical"])
        if "tracking" in data:
            values["tracking"] = data["tracking"]
        if data.get("category"):
            values["categ_id"] = self._category(data["category"]).id
        if data.get("barcode"):
            values["barcode"] = self._free_barcode(data["barcode"], product, item_id)
        updated_at = self._parse_datetime(data.get("updated_at"), "updated_at")
        return self._upsert_bound(message, "product.product", item_id, values, updated_at)

    def _category(self, name):
        category_model = self.env["product.category"]
        category = category_model.search([("name", "=", name)], order="id", limit=1)
        return category or category_model.create(
            {"name": name, "parent_id": self.env.ref("product.product_category_all").id}
        )

    def _free_barcode(self, barcode, product, item_id):
        owner = (
            self.env["product.product"]
            .with_context(active_test=False)
            .search([("barcode", "=", barcode), ("id", "!=", product.id)], limit=1)
        )
        if owner:
            raise IntegrationBusinessError(
                self.env._(
                    "Barcode %(barcode)s of item %(item)s already belongs to %(product)s.",
                    barcode=barcode,
                    item=item_id,
                    product=owner.display_name,
                ),
                kind="conflict",
            )
        return barcode
