"""Extends hr.employee: the Odoo user who acts for an employee as an approver."""

from odoo import models


class HrEmployee(models.Model):
    _inherit = "hr.employee"

    def _integration_approver_user(self):
        """The employee's user, else the user whose login or e-mail is the employee's
        work e-mail; empty when there is none."""
        self.ensure_one()
        if self.user_id:
            return self.user_id
        email = (self.work_email or "").strip()
        if not email:
            return self.env["res.users"]
        users = self.env["res.users"].sudo()
        return (
            users.search([("login", "=ilike", email)], limit=1)
            or users.search([("email", "=ilike", email)], limit=1)
        ).sudo(False)
