import json

from odoo import models

# Data minimisation: the only keys of employee.upserted the hub keeps. Anything else
# (birth date, address, salary, identity numbers, …) is neither stored on the
# employee nor kept in the message once it is processed.
EMPLOYEE_KEYS = (
    "id",
    "name",
    "work_email",
    "department_code",
    "job_title",
    "manager_id",
    "cost_center_code",
    "active",
    "updated_at",
)


class IntegrationHandlerEmployee(models.AbstractModel):
    """employee.upserted: an employee, with only the fields the hub needs."""

    _name = "integration.handler.employee"
    _inherit = "integration.handler.workforce"
    _description = "Integration Handler: employee.upserted"

    def _handle(self, message, data):
        self._minimise(message, data)
        binder = self.env["integration.binding"].with_context(active_test=False)
        # One binding lookup serves the staleness check, the upsert and the bind.
        binding = binder._find(message.backend_id, "hr.employee", data["id"])
        updated_at = self._updated_at(data)
        if binding._is_older(updated_at):
            return binding._record()
        values = {"name": data["name"], "company_id": message.company_id.id}
        for key in ("work_email", "job_title"):
            if key in data:
                values[key] = data[key] or False
        if data.get("department_code"):
            values["department_id"] = self._department_or_wait(message, data["department_code"]).id
        elif "department_code" in data:
            values["department_id"] = False
        new = not (binding and binding._record())
        employee = self._upsert_hr(
            message, "hr.employee", data["id"], values, updated_at, binding=binding
        )
        if "active" in data:
            self._set_active(employee, data["active"])
        if "manager_id" in data:
            self._link(message, employee, "parent_id", "employee", data["manager_id"], new=new)
        if "cost_center_code" in data:
            self._link(
                message,
                employee,
                "integration_cost_center_id",
                "cost_center",
                data["cost_center_code"],
                new=new,
            )
        self._arrived(message, "employee", data["id"], employee)
        return employee

    def _set_active(self, employee, active):
        """Archive, or rehire: an active employee has no departure, nor one scheduled."""
        if active:
            if not employee.active:
                employee.action_unarchive()
            if employee.integration_termination_date:
                employee.write(
                    {
                        "integration_termination_date": False,
                        "integration_termination_reason_id": False,
                        "integration_termination_note": False,
                    }
                )
        elif employee.active:
            employee.with_context(no_wizard=True).action_archive()

    def _minimise(self, message, data):
        """Drop what the hub must not keep from the stored message."""
        extra = set(data) - set(EMPLOYEE_KEYS)
        if not extra:
            return
        for key in extra:
            del data[key]
        event = json.loads(message.payload)
        event["data"] = data
        message.payload = json.dumps(event)
