from odoo import models

from odoo.addons.integration_hub.exceptions import (
    IntegrationBusinessError,
    WaitingForRecordError,
)

# data key -> res.partner field kept for billing; anything else (clinical data) is dropped.
BILLING_PARTNER_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "street": "street",
    "city": "city",
    "zip": "zip",
}


class IntegrationHandlerBilling(models.AbstractModel):
    """Helpers shared by the revenue cycle's handlers."""

    _name = "integration.handler.billing"
    _inherit = "integration.handler"
    _description = "Integration Handler: billing helpers"

    def _amount(self, data, key, default=None):
        """``data[key]``, a decimal string, as a Decimal; ``default`` when missing."""
        if data.get(key) is None:
            if default is not None:
                return default
            raise IntegrationBusinessError(
                self.env._("The amount '%(field)s' is missing.", field=key)
            )
        return self._decimal(data[key], key)

    def _currency(self, message, code):
        company_currency = message.company_id.currency_id
        if not code or code == company_currency.name:
            return company_currency
        currency = self.env["res.currency"].search([("name", "=", code)], limit=1)
        if not currency:
            raise IntegrationBusinessError(
                self.env._(
                    "The currency '%(code)s' is not active in Odoo: activate it, then retry.",
                    code=code,
                ),
                kind="unknown_record",
            )
        return currency

    def _partner_values(self, message, data):
        values = {field: data[key] for key, field in BILLING_PARTNER_FIELDS.items() if key in data}
        if data.get("country_code"):
            values["country_id"] = self._country(data["country_code"]).id
        values["company_id"] = message.company_id.id
        return values

    def _bound_partner(self, message, external_id, role):
        """The patient or payer bound to ``external_id``; waits while it is unknown."""
        partner = self._bound(message, "res.partner", external_id)
        if not partner:
            raise WaitingForRecordError(
                "res.partner",
                external_id,
                self.env._(
                    "Unknown %(role)s '%(id)s' of %(backend)s: send its %(role)s.upserted "
                    "event first.",
                    role=role,
                    id=external_id,
                    backend=message.backend_id.name,
                ),
                kind="unknown_payer" if role == "payer" else "unknown_record",
            )
        return partner

    def _service_product(self, message, code):
        """The product a service code is mapped to (code kind ``service``)."""
        return self._map_code(message, "service", code)
