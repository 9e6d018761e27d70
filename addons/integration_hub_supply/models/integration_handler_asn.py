from datetime import datetime, time

from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerAsn(models.AbstractModel):
    """asn.received: the order's incoming receipt prepared with the announced lines
    (quantities, lots) and the expected date; each ASN line is bound to its move line."""

    _name = "integration.handler.asn"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: asn.received"

    def _handle(self, message, data):
        order = self._purchase_order(message, data["purchase_order_ref"], data["supplier_id"])
        picking = self._bound(message, "stock.picking", data["id"])
        if picking and picking.state in ("done", "cancel"):
            return picking
        picking = picking or self._receipt(order)
        expected = self._date(data.get("expected_date"), "expected_date")
        if expected:
            picking.scheduled_date = datetime.combine(expected, time(12))
        announced = self.env["stock.move"]
        for index, line_data in enumerate(data["lines"], start=1):
            move_line = self._bound(message, "stock.move.line", line_data["line_id"])
            values = self._line_values(message, picking, line_data, index)
            move = values.pop("move_id")
            if move_line:
                move_line.write(values)
                continue
            if move not in announced:
                # The receipt's own reservation gives way to what the supplier announces.
                move.move_line_ids.filtered(lambda ml: not ml.integration_asn_qty).unlink()
                announced |= move
            move_line = self.env["stock.move.line"].create(
                dict(
                    values,
                    move_id=move.id,
                    picking_id=picking.id,
                    product_id=move.product_id.id,
                    location_id=move.location_id.id,
                    location_dest_id=move.location_dest_id.id,
                    company_id=move.company_id.id,
                )
            )
            self._bind(message, move_line, line_data["line_id"])
        if not self._bound(message, "stock.picking", data["id"]):
            self._bind(message, picking, data["id"])
        return picking

    def _receipt(self, order):
        if order.state not in ("purchase", "done"):
            raise IntegrationBusinessError(
                self.env._(
                    "Purchase order %(order)s is not confirmed: it has no receipt to prepare.",
                    order=order.name,
                ),
                kind="conflict",
                record=order,
            )
        receipt = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state not in ("done", "cancel")
        )[:1]
        if not receipt:
            raise IntegrationBusinessError(
                self.env._(
                    "Purchase order %(order)s has no receipt waiting: everything was received.",
                    order=order.name,
                ),
                kind="conflict",
                record=order,
            )
        return receipt

    def _line_values(self, message, picking, line_data, index):
        product = self._item(message, line_data["item_code"])
        move = picking.move_ids.filtered(
            lambda m: m.product_id == product and m.state not in ("done", "cancel")
        )[:1]
        if not move:
            raise IntegrationBusinessError(
                self.env._(
                    "Item %(item)s (%(product)s) is not on receipt %(picking)s.",
                    item=line_data["item_code"],
                    product=product.display_name,
                    picking=picking.name,
                ),
                kind="conflict",
                record=picking,
            )
        quantity = float(
            self._decimal(line_data["quantity"], f"lines/{index}/quantity", allow_zero=False)
        )
        uom = self._uom(message, line_data.get("uom"), product)
        lot = self.env["stock.lot"]
        if product.tracking != "none":
            if not line_data.get("lot"):
                raise IntegrationBusinessError(
                    self.env._(
                        "%(product)s is tracked by %(tracking)s: ASN line %(line)s needs its "
                        "'lot'.",
                        product=product.display_name,
                        tracking=product.tracking,
                        line=line_data["line_id"],
                    ),
                    kind="validation",
                )
            lot = self.env["stock.lot"]._integration_find_or_create(
                product, line_data["lot"], message.company_id
            )
        return {
            "move_id": move,
            "product_uom_id": uom.id,
            "quantity": quantity,
            "integration_asn_qty": quantity,
            "lot_id": lot.id,
        }
