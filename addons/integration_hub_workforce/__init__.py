from . import models


def post_init_hook(env):
    """Each company's Cost Centers plan exists from the install on.

    A new analytic plan adds a column to the analytic models and reloads the model
    registry: done by a sync job in a running server, it left the other threads with a
    half-reloaded registry (invalid field x_planN_id, then every job failing). At install,
    and when a company is created, the reload is Odoo's usual one.
    """
    env["res.company"].search([])._integration_cost_center_plans()
