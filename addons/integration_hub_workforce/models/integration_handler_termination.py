from odoo import models

# Reason codes of the HR system that match Odoo's own departure reasons (hr_data.xml).
DEPARTURE_REASONS = {
    "fired": "hr.departure_fired",
    "dismissed": "hr.departure_fired",
    "resigned": "hr.departure_resigned",
    "resignation": "hr.departure_resigned",
    "retired": "hr.departure_retired",
    "retirement": "hr.departure_retired",
}


class IntegrationHandlerTermination(models.AbstractModel):
    """employee.terminated: the employee departs on the termination date."""

    _name = "integration.handler.termination"
    _inherit = "integration.handler.workforce"
    _description = "Integration Handler: employee.terminated"

    def _handle(self, message, data):
        binder = self.env["integration.binding"].with_context(active_test=False)
        backend = message.backend_id
        employee = self._employee(message, data["id"], wait=True)
        updated_at = self._updated_at(data)
        if binder._is_stale(backend, "hr.employee", data["id"], updated_at):
            return employee
        departure_date = self._date(data["termination_date"], "data/termination_date")
        reason, note = self._reason(data.get("reason"))
        if departure_date <= employee._integration_today():
            employee._integration_terminate(departure_date, reason, note)
        else:
            employee.write(
                {
                    "integration_termination_date": departure_date,
                    "integration_termination_reason_id": reason.id,
                    "integration_termination_note": note,
                }
            )
        binder._bind(backend, data["id"], employee, updated_at=updated_at, message=message)
        return employee

    def _reason(self, code):
        """Odoo's departure reason for the HR system's ``code``; an unknown one is
        Other, with the code noted."""
        xmlid = DEPARTURE_REASONS.get((code or "").strip().lower())
        if xmlid:
            return self.env.ref(xmlid), False
        other = self.env.ref("integration_hub_workforce.hr_departure_reason_other")
        note = (
            self.env._("Reason sent by the HR system: %(reason)s", reason=code) if code else False
        )
        return other, note
