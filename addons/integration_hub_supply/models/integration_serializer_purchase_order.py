from odoo import models


class IntegrationSerializerPurchaseOrder(models.AbstractModel):
    """purchase.order.confirmed: the approved order, as the supplier knows its parts."""

    _name = "integration.serializer.purchase.order"
    _inherit = "integration.serializer"
    _description = "Integration Serializer: purchase.order.confirmed"

    def _serialize(self, event_type, record, subscription=None):
        backend = subscription.backend_id if subscription else None
        currency = record.currency_id

        def known_as(target, kind=None):
            """The subscriber's own id of ``target``: its binding, else its code map."""
            if not backend:
                return None
            return self._external_id(backend, target) or (
                kind and self._external_code(backend, kind, target)
            )

        def amount(value):
            return f"{currency.round(value):.{currency.decimal_places}f}"

        return {
            "id": str(record.id),
            "number": record.name,
            "supplier": {
                "id": str(record.partner_id.id),
                "external_id": known_as(record.partner_id),
                "name": record.partner_id.name,
            },
            "order_date": self._value(record, "date_approve"),
            "currency": currency.name,
            "amount_total": amount(record.amount_total),
            "deliver_to": record.picking_type_id.warehouse_id.name or None,
            "lines": [
                {
                    "id": str(line.id),
                    "item_code": known_as(line.product_id, "item")
                    or line.product_id.default_code
                    or None,
                    "description": line.name,
                    "quantity": self._value(line, "product_qty"),
                    "uom": line.product_uom.name,
                    "unit_price": amount(line.price_unit),
                    "subtotal": amount(line.price_subtotal),
                    "expected_date": self._value(line, "date_planned"),
                }
                for line in record.order_line
                if not line.display_type
            ],
        }
