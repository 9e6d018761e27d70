from odoo import models


class IntegrationHandlerCostCenter(models.AbstractModel):
    """cost_center.upserted: an analytic account of the company in the Cost Centers plan."""

    _name = "integration.handler.cost.center"
    _inherit = "integration.handler.workforce"
    _description = "Integration Handler: cost_center.upserted"

    def _handle(self, message, data):
        plan = self._cost_center_plan()
        values = {
            "name": data["name"],
            "code": data["code"],
            "plan_id": plan.id,
            "company_id": message.company_id.id,
        }
        if "active" in data:
            values["active"] = data["active"]
        account = self._upsert_hr(
            message, "account.analytic.account", data["id"], values, self._updated_at(data)
        )
        self._arrived(message, "cost_center", account.code, account)
        return account
