"""Extends account.analytic.line: the worked shift a line books."""

from odoo import fields, models


class AccountAnalyticLine(models.Model):
    _inherit = "account.analytic.line"

    integration_employee_id = fields.Many2one(
        "hr.employee", string="Employee", index="btree_not_null", ondelete="restrict"
    )
    integration_department_id = fields.Many2one("hr.department", string="Department")
    integration_cost_center_id = fields.Many2one(
        "account.analytic.account", string="Cost centre", index="btree_not_null"
    )
    integration_shift_type = fields.Char(string="Shift type")
