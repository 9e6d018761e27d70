"""Before the data is loaded: the first company's Cost Centers plan becomes the one plan.

Up to 18.0.1.0.0 each company had its own Cost Centers plan (res.company's
``integration_cost_center_plan_id``), each with its own column on the analytic models.
Naming the oldest one ``account_analytic_plan_cost_centers`` keeps its column and its
lines where they are: the data file then finds the plan instead of making another.
post-migrate moves the other companies' cost centres into it.
"""

XMLID = "account_analytic_plan_cost_centers"


def migrate(cr, version):
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'res_company' AND column_name = 'integration_cost_center_plan_id'"""
    )
    if not cr.rowcount:
        return
    cr.execute(
        """SELECT min(integration_cost_center_plan_id) FROM res_company
            WHERE integration_cost_center_plan_id IS NOT NULL"""
    )
    (plan_id,) = cr.fetchone()
    if plan_id:
        cr.execute(
            """INSERT INTO ir_model_data (module, name, model, res_id, noupdate)
               VALUES ('integration_hub_workforce', %s, 'account.analytic.plan', %s, TRUE)
               ON CONFLICT DO NOTHING""",
            (XMLID, plan_id),
        )
