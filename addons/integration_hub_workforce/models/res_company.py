"""Extends res.company: its Cost Centers analytic plan."""

from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    integration_cost_center_plan_id = fields.Many2one(
        "account.analytic.plan",
        string="Cost Centers plan",
        readonly=True,
        help="The analytic plan that holds the cost centres the HR system sends for this "
        "company; created with the company (or at install).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._integration_cost_center_plans()
        return companies

    def _integration_cost_center_plans(self):
        for company in self:
            company._integration_cost_center_plan()

    def _integration_cost_center_plan(self):
        """The company's Cost Centers plan (made with the company; here as a fallback)."""
        self.ensure_one()
        if not self.integration_cost_center_plan_id:
            plan = (
                self.env["account.analytic.plan"]
                .sudo()
                .create({"name": self.env._("Cost Centers"), "default_applicability": "optional"})
            )
            self.sudo().integration_cost_center_plan_id = plan
        return self.integration_cost_center_plan_id
