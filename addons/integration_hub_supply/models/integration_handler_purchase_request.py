from datetime import datetime, time

from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerPurchaseRequest(models.AbstractModel):
    """purchase.requested: request for quotation lines with each item's preferred
    vendor, left in draft for the buyers' approval (Odoo's own confirmation)."""

    _name = "integration.handler.purchase.request"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: purchase.requested"

    def _handle(self, message, data):
        warehouse = self._warehouse(message, data.get("department_code"))
        orders = self.env["purchase.order"]
        for index, line_data in enumerate(data["lines"], start=1):
            line = self._bound(message, "purchase.order.line", line_data["line_id"])
            if line:
                orders |= line.order_id
                continue
            product = self._item(message, line_data["item_code"])
            quantity = self._decimal(
                line_data["quantity"], f"lines/{index}/quantity", allow_zero=False
            )
            uom = self._uom(message, line_data.get("uom"), product)
            order = self._request_order(message, data, product, warehouse)
            values = {
                "order_id": order.id,
                "product_id": product.id,
                "product_qty": float(quantity),
                "product_uom": uom.id,
            }
            needed_by = self._date(line_data.get("needed_by"), f"lines/{index}/needed_by")
            line = self.env["purchase.order.line"].create(values)
            if needed_by:
                line.date_planned = datetime.combine(needed_by, time(12))
            self._bind(message, line, line_data["line_id"])
            orders |= order
        return orders[:1]

    def _warehouse(self, message, department_code):
        if department_code:
            return self._map_supply_code(message, "department", department_code)
        return self.env["stock.warehouse"].search(
            [("company_id", "=", message.company_id.id)], limit=1
        )

    def _request_order(self, message, data, product, warehouse):
        """The request's draft order with the item's preferred vendor."""
        seller = product.seller_ids.filtered(
            lambda s: not s.company_id or s.company_id == message.company_id
        )[:1]
        if not seller:
            raise IntegrationBusinessError(
                self.env._(
                    "%(product)s has no vendor: add its preferred vendor on the product "
                    "(Purchase tab) or send the supplier's catalogue, then retry.",
                    product=product.display_name,
                ),
                kind="unknown_record",
            )
        external_id = f"{data['id']}/vendor-{seller.partner_id.id}"
        order = self._bound(message, "purchase.order", external_id)
        if order:
            return order
        note = (
            self.env._("Requested by %(who)s", who=data["requested_by"])
            if data.get("requested_by")
            else False
        )
        order = self.env["purchase.order"].create(
            {
                "partner_id": seller.partner_id.id,
                "company_id": message.company_id.id,
                "picking_type_id": warehouse.in_type_id.id,
                "origin": data["id"],
                "notes": note,
            }
        )
        self._bind(message, order, external_id)
        return order
