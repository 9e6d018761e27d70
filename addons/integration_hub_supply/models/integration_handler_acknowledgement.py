from odoo import models
from odoo.tools import float_compare

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerAcknowledgement(models.AbstractModel):
    """supplier.acknowledged: the supplier's answer recorded on the order lines;
    rejected lines and changed quantities or dates open an exception for a buyer,
    who decides (Odoo's order is never changed behind their back)."""

    _name = "integration.handler.acknowledgement"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: supplier.acknowledged"

    def _handle(self, message, data):
        order = self._purchase_order(message, data["purchase_order_ref"], data["supplier_id"])
        if order.state == "cancel":
            raise IntegrationBusinessError(
                self.env._("Purchase order %(order)s is cancelled.", order=order.name),
                kind="conflict",
                record=order,
            )
        status = data["status"]
        answers = self._answers(message, order, data)
        for line, answer in answers:
            line.write(answer)
            if answer["integration_ack_state"] == "rejected":
                self._open_follow_up(
                    message,
                    "supplier_rejected",
                    self.env._(
                        "%(order)s: %(vendor)s rejected %(qty)s %(uom)s of %(product)s "
                        "(acknowledgement %(ack)s). Order it elsewhere or cancel the line.",
                        order=order.name,
                        vendor=order.partner_id.display_name,
                        qty=line.product_qty,
                        uom=line.product_uom.name,
                        product=line.product_id.display_name,
                        ack=data["id"],
                    ),
                    record=order,
                )
            elif answer["integration_ack_state"] == "changed":
                self._open_follow_up(
                    message,
                    "supplier_changed",
                    self.env._(
                        "%(order)s: %(vendor)s changed %(product)s: %(ordered)s ordered, "
                        "%(confirmed)s confirmed, promised %(promised)s (planned %(planned)s) "
                        "(acknowledgement %(ack)s). Accept the change on the order or "
                        "order the difference elsewhere.",
                        order=order.name,
                        vendor=order.partner_id.display_name,
                        product=line.product_id.display_name,
                        ordered=line.product_qty,
                        confirmed=answer["integration_ack_qty"],
                        promised=answer["integration_ack_date"] or "-",
                        planned=line.date_planned.date() if line.date_planned else "-",
                        ack=data["id"],
                    ),
                    record=order,
                )
        order.write({"integration_ack_ref": data["id"], "integration_ack_state": status})
        return order

    def _answers(self, message, order, data):
        """(order line, values) for each line the acknowledgement answers."""
        status = data["status"]
        lines_data = data.get("lines") or []
        if not lines_data:
            if status == "changed":
                raise IntegrationBusinessError(
                    self.env._(
                        "A 'changed' acknowledgement must list the changed lines (%(ack)s).",
                        ack=data["id"],
                    ),
                    kind="validation",
                )
            return [
                (line, {"integration_ack_state": status, "integration_ack_qty": line.product_qty})
                for line in order.order_line.filtered(lambda ol: not ol.display_type)
            ]
        answers = []
        for index, line_data in enumerate(lines_data, start=1):
            product = self._item(message, line_data["item_code"])
            lines = order.order_line.filtered(lambda ol, p=product: ol.product_id == p)
            if not lines:
                raise IntegrationBusinessError(
                    self.env._(
                        "Item %(item)s (%(product)s) is not on purchase order %(order)s.",
                        item=line_data["item_code"],
                        product=product.display_name,
                        order=order.name,
                    ),
                    kind="conflict",
                    record=order,
                )
            line = lines[:1]
            quantity = (
                float(self._decimal(line_data["quantity"], f"lines/{index}/quantity"))
                if "quantity" in line_data
                else line.product_qty
            )
            promised = self._date(line_data.get("promised_date"), f"lines/{index}/promised_date")
            line_status = line_data.get("status") or status
            if line_status != "rejected":
                changed = float_compare(
                    quantity, line.product_qty, precision_rounding=line.product_uom.rounding
                ) != 0 or (promised and line.date_planned and promised > line.date_planned.date())
                line_status = "changed" if changed else "accepted"
            answers.append(
                (
                    line,
                    {
                        "integration_ack_state": line_status,
                        "integration_ack_qty": quantity,
                        "integration_ack_date": promised or False,
                    },
                )
            )
        return answers
