"""Before billing's data is loaded again: its old extension of the exception form goes.

Up to 18.0.1.0.0 billing extended integration.exception's form with its own
``unmapped_code_kind``/``unmapped_code`` fields and button; the core's one "Map code
and retry" replaced them. Odoo deletes a view that left the data files only at the
end of the update, but the view would be validated before that, with every later
view of the same form (supply's), against fields that no longer exist, and stop the
update. The fields' columns stay for the core's end-migrate, which moves their values.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    view = env.ref("integration_hub_billing.integration_exception_view_form", False)
    if view:
        view.unlink()
