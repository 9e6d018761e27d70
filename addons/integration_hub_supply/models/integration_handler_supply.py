from datetime import date

from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerSupply(models.AbstractModel):
    """What the supply handlers share: codes, decimals, dates, purchase orders."""

    _name = "integration.handler.supply"
    _inherit = "integration.handler"
    _description = "Integration Handler: supply chain base"

    # Codes ------------------------------------------------------------------

    def _map_supply_code(self, message, kind, code):
        """The record a supply code stands for (code kinds in data/, see the core)."""
        return self._map_code(message, kind, code)

    def _item(self, message, code):
        """The product of an item code: bound by item.upserted, else its code map."""
        product = self._bound(message, "product.product", code)
        return product or self._map_supply_code(message, "item", code)

    def _uom(self, message, code, product):
        """The unit of a unit code, which must be of the product's category."""
        if not code:
            return product.uom_id
        uom = self._map_supply_code(message, "uom", code)
        if uom.category_id != product.uom_id.category_id:
            raise IntegrationBusinessError(
                self.env._(
                    "Unit '%(code)s' (%(uom)s) cannot measure %(product)s, counted in %(unit)s.",
                    code=code,
                    uom=uom.name,
                    product=product.display_name,
                    unit=product.uom_id.name,
                ),
                kind="validation",
            )
        return uom

    def _location(self, message, code):
        location = self._map_supply_code(message, "location", code)
        if location.usage != "internal":
            raise IntegrationBusinessError(
                self.env._(
                    "Location code '%(code)s' is mapped to %(location)s, which is not an "
                    "internal location.",
                    code=code,
                    location=location.complete_name,
                ),
                kind="validation",
            )
        return location

    def _supplier(self, message, supplier_id):
        """The vendor bound to a supplier id by supplier.upserted."""
        partner = self._bound(message, "res.partner", supplier_id)
        if not partner:
            raise IntegrationBusinessError(
                self.env._(
                    "Supplier '%(supplier)s' is unknown to Odoo: send its supplier.upserted "
                    "event first, then retry.",
                    supplier=supplier_id,
                ),
                kind="unknown_record",
            )
        return partner

    # Values -----------------------------------------------------------------

    def _date(self, value, field_name):
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise IntegrationBusinessError(
                self.env._(
                    "%(field)s '%(value)s' is not an ISO 8601 date.", field=field_name, value=value
                ),
                kind="validation",
            ) from exc

    # Records ----------------------------------------------------------------

    def _purchase_order(self, message, reference, supplier_id=None):
        """The purchase order the supplier refers to by ``reference``.

        The order bound to that reference at this backend, else the one order of the
        company with that number, then bound to it: an order Odoo numbers the same way
        later (names are not unique in Odoo) is never mistaken for it. Two orders with
        that number and no binding is a conflict for a buyer, never a guess.
        """
        order = bound = self._bound(message, "purchase.order", reference)
        if not order:
            order = self.env["purchase.order"].search(
                [("name", "=", reference), ("company_id", "=", message.company_id.id)]
            )
            if len(order) > 1:
                raise IntegrationBusinessError(
                    self.env._(
                        "%(count)s purchase orders of %(company)s are numbered "
                        "'%(reference)s': rename the one the supplier does not mean, then "
                        "retry.",
                        count=len(order),
                        reference=reference,
                        company=message.company_id.name,
                    ),
                    kind="conflict",
                )
        if not order:
            raise IntegrationBusinessError(
                self.env._(
                    "Purchase order '%(reference)s' does not exist in %(company)s.",
                    reference=reference,
                    company=message.company_id.name,
                ),
                kind="unknown_record",
            )
        if supplier_id:
            supplier = self._supplier(message, supplier_id)
            if order.partner_id.commercial_partner_id != supplier.commercial_partner_id:
                raise IntegrationBusinessError(
                    self.env._(
                        "Purchase order %(order)s is from %(vendor)s, not from supplier "
                        "'%(supplier)s' (%(name)s).",
                        order=order.name,
                        vendor=order.partner_id.display_name,
                        supplier=supplier_id,
                        name=supplier.display_name,
                    ),
                    kind="conflict",
                )
        if not bound:
            self._bind(message, order, reference)
        return order

    def _open_follow_up(self, message, kind, explanation, record=None):
        """An exception for a buyer on a message that was processed: once per cause,
        linked to ``record`` (the order, the receipt) for the buyer to open."""
        return self.env["integration.exception"]._open_follow_up(
            message, kind, explanation, record=record
        )
