from odoo import models


class IntegrationHandlerSupplier(models.AbstractModel):
    """supplier.upserted: a vendor, bound to the supplier id."""

    _name = "integration.handler.supplier"
    _inherit = "integration.handler.supply"
    _description = "Integration Handler: supplier.upserted"

    def _handle(self, message, data):
        values = {
            "name": data["name"],
            "is_company": True,
            "supplier_rank": 1,
            "company_id": message.company_id.id,
        }
        if "email" in data:
            values["email"] = data["email"] or False
        if data.get("country_code"):
            values["country_id"] = self._country(data["country_code"]).id
        updated_at = self._parse_datetime(data.get("updated_at"), "updated_at")
        return self._upsert_bound(message, "res.partner", data["id"], values, updated_at)
