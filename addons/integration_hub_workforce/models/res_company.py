"""Extends res.company: its Cost Centers analytic plan."""

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    integration_cost_center_plan_id = fields.Many2one(
        "account.analytic.plan",
        string="Cost Centers plan",
        readonly=True,
        help="The analytic plan that holds the cost centres the HR system sends for this "
        "company; created on first use.",
    )

    def _integration_cost_center_plan(self):
        """The company's Cost Centers plan, created on first use."""
        self.ensure_one()
        if not self.integration_cost_center_plan_id:
            plan = (
                self.env["account.analytic.plan"]
                .sudo()
                .create({"name": self.env._("Cost Centers"), "default_applicability": "optional"})
            )
            self.sudo().integration_cost_center_plan_id = plan
        return self.integration_cost_center_plan_id
