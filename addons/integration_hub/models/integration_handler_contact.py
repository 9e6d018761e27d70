from odoo import models

# data key -> res.partner field; anything else in the event is ignored, never written.
CONTACT_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "is_company": "is_company",
    "street": "street",
    "city": "city",
    "zip": "zip",
}


class IntegrationHandlerContact(models.AbstractModel):
    _name = "integration.handler.contact"
    _inherit = "integration.handler"
    _description = "Integration Handler: contact.upserted"

    def _handle(self, message, data):
        values = {field: data[key] for key, field in CONTACT_FIELDS.items() if key in data}
        if data.get("country_code"):
            values["country_id"] = self._country(data["country_code"]).id
        values["company_id"] = message.company_id.id
        if data.get("parent_id"):
            # The organisation a person belongs to may be sent after them: wait for it.
            values["parent_id"] = (
                self.env["integration.binding"]
                ._to_internal(message.backend_id, "res.partner", data["parent_id"], wait=True)
                .id
            )
        updated_at = self._parse_datetime(data.get("updated_at"), "updated_at")
        return self._upsert_bound(message, "res.partner", str(data["id"]), values, updated_at)
