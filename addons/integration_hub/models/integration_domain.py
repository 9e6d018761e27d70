from odoo import fields, models


class IntegrationDomain(models.Model):
    _name = "integration.domain"
    _description = "Integration Business Domain"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)

    _sql_constraints = [("code_uniq", "unique(code)", "This domain code already exists.")]
