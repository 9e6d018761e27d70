from odoo import models


class IntegrationHandlerCoverage(models.AbstractModel):
    _name = "integration.handler.coverage"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: coverage.upserted"

    def _handle(self, message, data):
        if data.get("payer"):
            self.env["integration.handler.payer"]._handle(message, data["payer"])
        patient = self._bound_partner(message, data["patient_id"], "patient")
        payer = self._bound_partner(message, data["payer_id"], "payer")
        if data.get("status") == "active":
            patient.integration_default_payer_id = payer
        elif patient.integration_default_payer_id == payer:
            patient.integration_default_payer_id = False
        return patient
