from datetime import date

from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError
from odoo.addons.queue_job.exception import RetryableJobError

from ..exceptions import UnmappedCodeError
from ..quantities import parse_decimal

# Odoo models the code kinds of the supply events map to (integration.code.map.kind).
CODE_KIND_MODELS = {
    "item": "product.product",
    "uom": "uom.uom",
    "location": "stock.location",
    "department": "stock.warehouse",
}


class IntegrationHandlerSupply(models.AbstractModel):
    """What the supply handlers share: codes, decimals, dates, purchase orders."""

    _name = "integration.handler.supply"
    _inherit = "integration.handler"
    _description = "Integration Handler: supply chain base"

    # Codes ------------------------------------------------------------------

    def _map_supply_code(self, message, kind, code):
        """The record a supply code stands for, from its code map.

        An unmapped code raises an error that remembers the kind and the code, so its
        exception offers *Map and retry*.
        """
        record = self.env["integration.code.map"]._lookup(message.backend_id, kind, code)
        if not record or record._name != CODE_KIND_MODELS[kind]:
            raise UnmappedCodeError(
                self.env._(
                    "The %(kind)s code '%(code)s' of %(backend)s is not mapped to an Odoo "
                    "record. Use Map and retry on this exception, or add it under "
                    "Integrations > Configuration > Code maps, then retry.",
                    kind=kind,
                    code=code,
                    backend=message.backend_id.name,
                ),
                code_kind=kind,
                code=code,
            )
        return record

    def _item(self, message, code):
        """The product of an item code: bound by item.upserted, else its code map."""
        binding = self._binding(message, "product.product", code)
        product = binding._record() if binding else None
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
        binding = self._binding(message, "res.partner", supplier_id)
        partner = binding._record() if binding else None
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

    def _decimal(self, value, field_name, allow_zero=True):
        try:
            return parse_decimal(value, allow_zero=allow_zero)
        except ValueError as exc:
            raise IntegrationBusinessError(
                self.env._(
                    "%(field)s '%(value)s' %(reason)s.",
                    field=field_name,
                    value=value,
                    reason=exc,
                ),
                kind="validation",
            ) from exc

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

    def _bound(self, message, model, external_id):
        """The record bound to ``external_id``, or an empty recordset."""
        binding = self._binding(message, model, external_id)
        return (binding._record() if binding else None) or self.env[model]

    def _bind(self, message, record, external_id):
        """Bind a record this message created to its external id (a line id, …)."""
        self.env["integration.binding"].create(
            {
                "backend_id": message.backend_id.id,
                "res_model": record._name,
                "res_id": record.id,
                "external_id": external_id,
                "last_message_id": message.id,
            }
        )

    def _purchase_order(self, message, reference, supplier_id=None):
        """The purchase order the supplier refers to by its Odoo reference."""
        order = self.env["purchase.order"].search(
            [("name", "=", reference), ("company_id", "=", message.company_id.id)], limit=1
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
        return order

    def _wait_for(self, message, explanation):
        """Let another event create what this one needs: retry later, and open an
        exception instead when this is the backend's last attempt."""
        if message.attempt_count + 1 >= message.backend_id.max_attempts:
            raise IntegrationBusinessError(explanation, kind="unknown_record")
        # A technical retry: the backend's backoff schedule decides when.
        raise RetryableJobError(explanation)

    def _open_follow_up(self, message, kind, explanation):
        """An exception for a buyer on a message that was processed: once per cause."""
        return self.env["integration.exception"]._open_follow_up(message, kind, explanation)
