"""Extends res.partner: the payer a FHIR Coverage names for a patient."""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    integration_default_payer_id = fields.Many2one(
        "res.partner",
        string="Default payer",
        readonly=True,
        copy=False,
        help="The payer of the patient's active coverage (from FHIR Coverage): it pays the "
        "charges that name no payer.",
    )
