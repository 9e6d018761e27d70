"""Extends integration.message: messages received as HL7 v2."""

from odoo import fields, models


class IntegrationMessage(models.Model):
    _inherit = "integration.message"

    source_format = fields.Selection(
        selection_add=[("hl7v2", "HL7 v2")], ondelete={"hl7v2": "set default"}
    )
