from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError

# How many of an item's latest consumptions make its usual quantity.
USUAL_SAMPLE = 20


class IntegrationHandlerConsumption(models.AbstractModel):
    """supply.consumed: a done, valued stock move from the care location to the
    company's consumption location (pending until the batch cron for batch backends)."""

    _name = "integration.handler.consumption"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: supply.consumed"

    def _handle(self, message, data):
        consumption_model = self.env["integration.supply.consumption"]
        existing = self._bound(message, consumption_model._name, data["id"])
        if existing:
            return existing
        product = self._item(message, data["item_code"])
        quantity = self._decimal(data["quantity"], "quantity", allow_zero=False)
        uom = self._uom(message, data.get("uom"), product)
        location = self._location(message, data["location_code"])
        consumption = consumption_model.create(
            {
                "name": data["id"],
                "message_id": message.id,
                "backend_id": message.backend_id.id,
                "product_id": product.id,
                "quantity": float(quantity),
                "uom_id": uom.id,
                "lot_id": self._lot(product, data.get("lot"), quantity, uom, message).id,
                "location_id": location.id,
                "location_dest_id": self.env["stock.location"]
                ._integration_consumption_location(message.company_id)
                .id,
                "department_code": data.get("department_code") or False,
                "encounter_ref": data.get("encounter_id") or False,
                "consumed_at": self._parse_datetime(data.get("consumed_at"), "consumed_at"),
            }
        )
        self._bind(message, consumption, data["id"])
        if message.backend_id.latency_tier != "batch":
            consumption._validate()
        return consumption

    def _review_usual_value(self, message, data, path):
        """The item's usual quantity per consumption, in the event's unit: the average
        of its latest consumptions in the company (None before its first one)."""
        if path != "quantity":
            return None
        try:
            product = self._item(message, data["item_code"])
            uom = self._uom(message, data.get("uom"), product)
        except IntegrationBusinessError:
            return None  # the handler reports it, with its own explanation
        latest = self.env["integration.supply.consumption"].search(
            [("product_id", "=", product.id), ("company_id", "=", message.company_id.id)],
            order="id desc",
            limit=USUAL_SAMPLE,
        )
        if not latest:
            return None
        total = sum(c.uom_id._compute_quantity(c.quantity, uom) for c in latest)
        return total / len(latest)

    def _lot(self, product, lot_name, quantity, uom, message):
        """The lot or serial number consumed, when the product is tracked."""
        if product.tracking == "none":
            return self.env["stock.lot"]
        if not lot_name:
            raise IntegrationBusinessError(
                self.env._(
                    "%(product)s is tracked by %(tracking)s: the consumption needs its 'lot'.",
                    product=product.display_name,
                    tracking=product.tracking,
                ),
                kind="validation",
            )
        if (
            product.tracking == "serial"
            and uom._compute_quantity(float(quantity), product.uom_id) != 1
        ):
            raise IntegrationBusinessError(
                self.env._(
                    "%(product)s is tracked by serial number: one consumption event per unit.",
                    product=product.display_name,
                ),
                kind="validation",
            )
        return self.env["stock.lot"]._integration_find_or_create(
            product, lot_name, message.company_id
        )
