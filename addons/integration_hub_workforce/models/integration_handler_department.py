from odoo import models


class IntegrationHandlerDepartment(models.AbstractModel):
    """department.upserted: a department with its code, parent, cost centre, manager."""

    _name = "integration.handler.department"
    _inherit = "integration.handler.workforce"
    _description = "Integration Handler: department.upserted"

    def _handle(self, message, data):
        binder = self.env["integration.binding"].with_context(active_test=False)
        binding = binder._find(message.backend_id, "hr.department", data["id"])
        updated_at = self._updated_at(data)
        if binding._is_older(updated_at):
            return binding._record()
        values = {
            "name": data["name"],
            "integration_code": data["code"],
            "company_id": message.company_id.id,
        }
        if "active" in data:
            values["active"] = data["active"]
        new = not (binding and binding._record())
        department = self._upsert_hr(
            message, "hr.department", data["id"], values, updated_at, binding=binding
        )
        for key, field_name, target_kind in (
            ("parent_code", "parent_id", "department"),
            ("cost_center_code", "integration_cost_center_id", "cost_center"),
            ("manager_id", "manager_id", "employee"),
        ):
            if key in data:
                self._link(message, department, field_name, target_kind, data[key], new=new)
        self._arrived(message, "department", department.integration_code, department)
        return department
