from odoo import fields, models, tools


class IntegrationWorkforceReport(models.Model):
    """Hours and labour cost of worked shifts, and headcount, by department, cost centre
    and week (one row per shift line, one per active employee)."""

    _name = "integration.workforce.report"
    _description = "Workforce report"
    _auto = False
    _order = "date desc, id"
    _rec_name = "employee_id"

    line_type = fields.Selection(
        [("shift", "Shift worked"), ("employee", "Employee")], string="Row", readonly=True
    )
    date = fields.Date(readonly=True, help="The shift's date (empty on headcount rows).")
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id", readonly=True)
    employee_id = fields.Many2one("hr.employee", readonly=True)
    department_id = fields.Many2one("hr.department", readonly=True)
    cost_center_id = fields.Many2one(
        "account.analytic.account", string="Cost centre", readonly=True
    )
    shift_type = fields.Char(readonly=True)
    hours = fields.Float(readonly=True, aggregator="sum")
    labour_cost = fields.Monetary(readonly=True, aggregator="sum")
    headcount = fields.Integer(readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE OR REPLACE VIEW {self._table} AS (
                SELECT
                    line.id * 2 AS id,
                    'shift' AS line_type,
                    line.date,
                    line.company_id,
                    line.integration_employee_id AS employee_id,
                    line.integration_department_id AS department_id,
                    line.integration_cost_center_id AS cost_center_id,
                    line.integration_shift_type AS shift_type,
                    line.unit_amount AS hours,
                    -line.amount AS labour_cost,
                    0 AS headcount
                FROM account_analytic_line line
                WHERE line.integration_employee_id IS NOT NULL
                UNION ALL
                SELECT
                    employee.id * 2 + 1,
                    'employee',
                    NULL,
                    employee.company_id,
                    employee.id,
                    employee.department_id,
                    COALESCE(
                        employee.integration_cost_center_id,
                        department.integration_cost_center_id
                    ),
                    NULL,
                    0,
                    0,
                    1
                FROM hr_employee employee
                LEFT JOIN hr_department department ON department.id = employee.department_id
                WHERE employee.active
            )
            """
        )
