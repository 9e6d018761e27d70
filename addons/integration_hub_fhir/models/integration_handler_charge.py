"""Extends integration.handler.charge: a charge naming no payer is billed to the
patient's default payer (its active FHIR Coverage); a FHIR ChargeItem with a payer
share and no coverage yet waits for the coverage (a FHIR ChargeItem names no payer)."""

from decimal import Decimal

from odoo import models

from odoo.addons.integration_hub.exceptions import WaitingForRecordError


class IntegrationHandlerCharge(models.AbstractModel):
    _inherit = "integration.handler.charge"

    def _handle(self, message, data):
        if not data.get("payer_id") and data.get("patient_id"):
            patient = self._bound(message, "res.partner", str(data["patient_id"]))
            payer = patient.integration_default_payer_id
            external_id = payer and self.env["integration.binding"]._to_external(
                message.backend_id, payer
            )
            if external_id:
                data = dict(data, payer_id=external_id)
            elif (
                message.source_format == "fhir_r4"
                and patient
                and self._amount(data, "payer_share", default=Decimal(0))
            ):
                raise WaitingForRecordError(
                    "res.partner",
                    str(data["patient_id"]),
                    self.env._(
                        "Charge %(id)s has a payer share, and patient %(patient)s has no "
                        "active coverage naming the payer yet.",
                        id=data["id"],
                        patient=data["patient_id"],
                    ),
                    kind="unknown_payer",
                )
        return super()._handle(message, data)
