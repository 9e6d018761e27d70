"""Extends integration.exception: a purchase request nobody can approve."""

from odoo import fields, models


class IntegrationException(models.Model):
    _inherit = "integration.exception"

    kind = fields.Selection(
        selection_add=[("no_approver", "No approver")],
        ondelete={"no_approver": "set default"},
    )
