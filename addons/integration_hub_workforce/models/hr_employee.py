"""Extends hr.employee: the cost centre and a termination the HR system scheduled."""

from odoo import api, fields, models


class HrEmployee(models.Model):
    _inherit = "hr.employee"

    integration_cost_center_id = fields.Many2one(
        "account.analytic.account",
        string="Cost centre",
        check_company=True,
        groups="hr.group_hr_user",
        help="Where the employee's labour cost is booked; empty means the department's.",
    )
    integration_termination_date = fields.Date(
        string="Scheduled termination",
        groups="hr.group_hr_user",
        copy=False,
        help="Termination sent by the HR system for a future date: the employee is archived "
        "on that day.",
    )
    integration_termination_reason_id = fields.Many2one(
        "hr.departure.reason", groups="hr.group_hr_user", copy=False
    )
    integration_termination_note = fields.Char(groups="hr.group_hr_user", copy=False)

    def _integration_today(self):
        """Today where the employee works (their time zone): a termination dated today
        applies on that day, whoever's job or cron reads it, whatever the hour in UTC."""
        self.ensure_one()
        return fields.Date.context_today(self.with_context(tz=self.tz or "UTC"))

    def _integration_terminate(self, departure_date, reason, note=False):
        """Archive the employees as departed on ``departure_date`` for ``reason``."""
        # action_archive also unlinks them as manager or coach of other employees.
        self.filtered("active").with_context(no_wizard=True).action_archive()
        self.write(
            {
                "departure_date": departure_date,
                "departure_reason_id": reason.id,
                "departure_description": note or False,
                "integration_termination_date": False,
                "integration_termination_reason_id": False,
                "integration_termination_note": False,
            }
        )

    @api.model
    def _cron_integration_terminate_due(self):
        """Archive the employees whose scheduled termination date has come."""
        # A day ahead of UTC covers every time zone; each employee's own day decides.
        candidates = self.search(
            [
                (
                    "integration_termination_date",
                    "<=",
                    fields.Date.add(fields.Date.today(), days=1),
                )
            ]
        )
        due = candidates.filtered(
            lambda e: e.integration_termination_date <= e._integration_today()
        )
        for employee in due:
            employee._integration_terminate(
                employee.integration_termination_date,
                employee.integration_termination_reason_id,
                employee.integration_termination_note,
            )
        return len(due)
