from odoo import models


class IntegrationHandlerDepartment(models.AbstractModel):
    """department.upserted: a department with its code, parent, cost centre, manager."""

    _name = "integration.handler.department"
    _inherit = "integration.handler.workforce"
    _description = "Integration Handler: department.upserted"

    def _handle(self, message, data):
        binder = self.env["integration.binding"]
        updated_at = self._updated_at(data)
        if binder._is_stale(message.backend_id, "hr.department", data["id"], updated_at):
            return binder._to_internal(message.backend_id, "hr.department", data["id"])
        values = {
            "name": data["name"],
            "integration_code": data["code"],
            "company_id": message.company_id.id,
        }
        if "active" in data:
            values["active"] = data["active"]
        department = self.with_context(active_test=False)._upsert_bound(
            message, "hr.department", data["id"], values, updated_at
        )
        for key, field_name, target_kind in (
            ("parent_code", "parent_id", "department"),
            ("cost_center_code", "integration_cost_center_id", "cost_center"),
            ("manager_id", "manager_id", "employee"),
        ):
            if key in data:
                self._link(message, department, field_name, target_kind, data[key])
        self._arrived(message, "department", department.integration_code, department)
        return department
