"""Extends hr.department: the HR system's department code and cost centre."""

from odoo import fields, models


class HrDepartment(models.Model):
    _inherit = "hr.department"

    integration_code = fields.Char(
        string="Department code",
        index=True,
        copy=False,
        help="The department's code in the HR system (SURG, …), by which employees, shifts "
        "and purchase requests name it.",
    )
    integration_cost_center_id = fields.Many2one(
        "account.analytic.account",
        string="Cost centre",
        check_company=True,
        help="Where the department's labour cost is booked.",
    )

    _sql_constraints = [
        (
            "integration_code_company_uniq",
            "unique(integration_code, company_id)",
            "Another department of this company already has this department code.",
        ),
    ]
