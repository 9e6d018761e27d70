"""The other companies' Cost Centers plans merge into the one plan.

Their cost centres (analytic accounts, still of their company) move to the one plan,
which moves their analytic lines to its column (Odoo's own move of an account to
another plan); the emptied plans are deleted with their columns. A plan a person gave
other accounts or sub-plans to is kept, only its cost centres move.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'res_company' AND column_name = 'integration_cost_center_plan_id'"""
    )
    if not cr.rowcount:
        return
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    shared = env.ref("integration_hub_workforce.account_analytic_plan_cost_centers")
    cr.execute(
        """SELECT integration_cost_center_plan_id, array_agg(id) FROM res_company
            WHERE integration_cost_center_plan_id IS NOT NULL
              AND integration_cost_center_plan_id != %s
            GROUP BY integration_cost_center_plan_id""",
        (shared.id,),
    )
    Account = env["account.analytic.account"]
    emptied = env["account.analytic.plan"]
    for plan_id, company_ids in cr.fetchall():
        plan = env["account.analytic.plan"].browse(plan_id).exists()
        if not plan:
            continue
        Account.search([("plan_id", "=", plan.id), ("company_id", "in", company_ids)]).write(
            {"plan_id": shared.id}
        )
        if not plan.children_ids and not Account.search_count([("plan_id", "=", plan.id)]):
            emptied |= plan
    emptied.unlink()
