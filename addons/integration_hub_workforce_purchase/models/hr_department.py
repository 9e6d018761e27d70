"""Extends hr.department: its manager approves its purchase requests."""

from odoo import fields, models


class HrDepartment(models.Model):
    _inherit = "hr.department"

    integration_approval_limit = fields.Monetary(
        string="Manager approves up to",
        currency_field="integration_currency_id",
        help="Purchase requests of this department up to this total are approved by the "
        "department's manager alone; above it, Odoo's purchase approval applies as well "
        "(purchase managers).",
    )
    integration_currency_id = fields.Many2one(related="company_id.currency_id")

    def write(self, vals):
        previous = {department: department.manager_id for department in self}
        result = super().write(vals)
        if "manager_id" in vals:
            for department in self:
                if department.manager_id != previous[department]:
                    self.env["purchase.order"]._integration_reroute_approvals(
                        department, previous[department]
                    )
        return result
