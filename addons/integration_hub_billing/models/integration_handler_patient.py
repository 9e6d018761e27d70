from odoo import models


class IntegrationHandlerPatient(models.AbstractModel):
    _name = "integration.handler.patient"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: patient.upserted"

    def _handle(self, message, data):
        values = dict(
            self._partner_values(message, data),
            is_company=False,
            ref=data["id"],
            # Need to know: billing and Integrations users only (record rules).
            integration_patient=True,
        )
        updated_at = self._parse_datetime(data.get("updated_at"), "updated_at")
        return self._upsert_bound(message, "res.partner", str(data["id"]), values, updated_at)
