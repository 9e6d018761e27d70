from odoo import models
from odoo.tools import float_compare

from odoo.addons.integration_hub.exceptions import (
    IntegrationBusinessError,
    WaitingForRecordError,
)


class IntegrationHandlerGoodsReceipt(models.AbstractModel):
    """goods.received: the receipt prepared from the ASN validated with the received
    quantities. What was not delivered stays in a backorder; any difference from the
    ASN opens an exception for a buyer."""

    _name = "integration.handler.goods.receipt"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: goods.received"

    def _handle(self, message, data):
        received = self._bound(message, "stock.picking", data["id"])
        if received:
            return received
        picking = self._bound(message, "stock.picking", data["asn_id"])
        if not picking:
            # Goods can overtake their notice: wait for the ASN, then hand it to a person.
            raise WaitingForRecordError(
                "stock.picking",
                data["asn_id"],
                self.env._(
                    "Goods receipt %(receipt)s refers to ASN %(asn)s, which has not been received.",
                    receipt=data["id"],
                    asn=data["asn_id"],
                ),
                kind="unknown_record",
            )
        if picking.state in ("done", "cancel"):
            raise IntegrationBusinessError(
                self.env._(
                    "Receipt %(picking)s of ASN %(asn)s is already %(state)s; goods receipt "
                    "%(receipt)s cannot change it.",
                    picking=picking.name,
                    asn=data["asn_id"],
                    state=picking.state,
                    receipt=data["id"],
                ),
                kind="conflict",
                record=picking,
            )
        location = (
            self._location(message, data["location_code"]) if data.get("location_code") else None
        )
        announced = picking.move_line_ids.filtered("integration_asn_qty")
        counted = self.env["stock.move.line"]
        for index, line_data in enumerate(data["lines"], start=1):
            move_line = self._bound(message, "stock.move.line", line_data["line_id"])
            if not move_line or move_line.picking_id != picking:
                raise IntegrationBusinessError(
                    self.env._(
                        "Line %(line)s is not a line of ASN %(asn)s.",
                        line=line_data["line_id"],
                        asn=data["asn_id"],
                    ),
                    kind="unknown_record",
                )
            values = {
                "quantity": float(self._decimal(line_data["quantity"], f"lines/{index}/quantity")),
                "picked": True,
            }
            if line_data.get("lot") and line_data["lot"] != move_line.lot_id.name:
                values["lot_id"] = (
                    self.env["stock.lot"]
                    ._integration_find_or_create(
                        move_line.product_id, line_data["lot"], message.company_id
                    )
                    .id
                )
            if location:
                values["location_dest_id"] = location.id
            move_line.write(values)
            counted |= move_line
        # Announced but not counted: nothing of it arrived.
        (announced - counted).write({"quantity": 0.0, "picked": True})
        differences = self._differences(announced)
        picking.move_ids.picked = True
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[]).button_validate()
        received_at = self._parse_datetime(data.get("received_at"), "received_at")
        if received_at:
            picking.date_done = received_at
        self._bind(message, picking, data["id"])
        if differences:
            backorder = self.env["stock.picking"].search([("backorder_id", "=", picking.id)])
            self._open_follow_up(
                message,
                "quantity_mismatch",
                self.env._(
                    "Receipt %(picking)s (ASN %(asn)s, order %(order)s) differs from the "
                    "shipping notice: %(lines)s. %(backorder)s",
                    picking=picking.name,
                    asn=data["asn_id"],
                    order=picking.origin or "-",
                    lines="; ".join(differences),
                    backorder=self.env._(
                        "What is still due waits in backorder %(names)s: cancel it if the "
                        "supplier will not deliver it.",
                        names=", ".join(backorder.mapped("name")),
                    )
                    if backorder
                    else "",
                ),
                record=picking,
            )
        return picking

    def _differences(self, move_lines):
        differences = []
        for move_line in move_lines:
            if (
                float_compare(
                    move_line.quantity,
                    move_line.integration_asn_qty,
                    precision_rounding=move_line.product_uom_id.rounding,
                )
                != 0
            ):
                # Not in the call: an f-string argument of _() hides the whole file's
                # terms from the translation exporter (babel).
                lot = f" ({move_line.lot_id.name})" if move_line.lot_id else ""
                differences.append(
                    self.env._(
                        "%(product)s%(lot)s: %(announced)s %(uom)s announced, %(received)s "
                        "received",
                        product=move_line.product_id.display_name,
                        lot=lot,
                        announced=move_line.integration_asn_qty,
                        uom=move_line.product_uom_id.name,
                        received=move_line.quantity,
                    )
                )
        return differences
