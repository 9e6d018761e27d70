from odoo import models


class IntegrationSerializerBilling(models.AbstractModel):
    """What the billing serializers share: amounts and partners as the subscriber
    knows them."""

    _name = "integration.serializer.billing"
    _inherit = "integration.serializer"
    _description = "Integration Serializer: billing"

    def _amount(self, currency, value):
        """A decimal string with the currency's decimals (never a float)."""
        return f"{currency.round(value):.{currency.decimal_places}f}"

    def _partner(self, partner, subscription):
        backend = subscription.backend_id if subscription else None
        return {
            "id": str(partner.id),
            "external_id": self._external_id(backend, partner) if backend else None,
            "name": partner.name,
        }
