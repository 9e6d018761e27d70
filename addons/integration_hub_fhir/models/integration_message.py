"""Extends integration.message: FHIR R4 as a source format."""

from odoo import fields, models


class IntegrationMessage(models.Model):
    _inherit = "integration.message"

    source_format = fields.Selection(
        selection_add=[("fhir_r4", "FHIR R4")], ondelete={"fhir_r4": "set default"}
    )
