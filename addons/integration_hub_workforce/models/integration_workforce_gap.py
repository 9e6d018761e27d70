from odoo import fields, models, tools

GAP_KINDS = [
    ("employee_no_department", "Employee without department"),
    ("employee_no_cost_center", "Employee without cost centre"),
    ("department_no_manager", "Department without manager"),
    ("department_no_cost_center", "Department without cost centre"),
    ("manager_no_user", "Manager without an Odoo user"),
    ("shift_unknown_employee", "Shift of an unknown employee"),
]


class IntegrationWorkforceGap(models.Model):
    """What keeps HR data from reaching labour cost and approvals: one row per gap."""

    _name = "integration.workforce.gap"
    _description = "Workforce reconciliation gap"
    _auto = False
    _order = "kind, id"
    _rec_name = "kind"

    kind = fields.Selection(GAP_KINDS, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    employee_id = fields.Many2one("hr.employee", readonly=True)
    department_id = fields.Many2one("hr.department", readonly=True)
    message_id = fields.Many2one("integration.message", readonly=True)
    external_ref = fields.Char(
        string="External reference", readonly=True, help="The HR system's id of the record."
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE OR REPLACE VIEW {self._table} AS (
                SELECT ROW_NUMBER() OVER (ORDER BY gap.kind, gap.ref_id) AS id, gap.*
                FROM (
                    SELECT 'employee_no_department' AS kind, e.id AS ref_id,
                           e.company_id, e.id AS employee_id, NULL::integer AS department_id,
                           NULL::integer AS message_id, NULL::varchar AS external_ref
                    FROM hr_employee e
                    WHERE e.active AND e.department_id IS NULL
                    UNION ALL
                    SELECT 'employee_no_cost_center', e.id, e.company_id, e.id,
                           e.department_id, NULL, NULL
                    FROM hr_employee e
                    LEFT JOIN hr_department d ON d.id = e.department_id
                    WHERE e.active AND e.integration_cost_center_id IS NULL
                      AND d.integration_cost_center_id IS NULL
                    UNION ALL
                    SELECT 'department_no_manager', d.id, d.company_id, NULL, d.id, NULL, NULL
                    FROM hr_department d
                    WHERE d.active AND d.manager_id IS NULL
                    UNION ALL
                    SELECT 'department_no_cost_center', d.id, d.company_id, NULL, d.id,
                           NULL, NULL
                    FROM hr_department d
                    WHERE d.active AND d.integration_cost_center_id IS NULL
                    UNION ALL
                    SELECT 'manager_no_user', d.id, d.company_id, e.id, d.id, NULL, NULL
                    FROM hr_department d
                    JOIN hr_employee e ON e.id = d.manager_id
                    WHERE d.active AND e.user_id IS NULL AND NOT EXISTS (
                        SELECT 1 FROM res_users u
                        JOIN res_partner p ON p.id = u.partner_id
                        WHERE u.active AND e.work_email IS NOT NULL
                          AND (lower(u.login) = lower(e.work_email)
                               OR lower(p.email) = lower(e.work_email))
                    )
                    UNION ALL
                    SELECT 'shift_unknown_employee', m.id, m.company_id, NULL, NULL, m.id,
                           m.waiting_external_id
                    FROM integration_message m
                    WHERE m.direction = 'in' AND m.event_type = 'shift.worked'
                      AND m.state IN ('retrying', 'exception')
                      AND m.waiting_res_model = 'hr.employee'
                ) gap
            )
            """
        )
