from odoo import models
from odoo.tools import float_round

from odoo.addons.integration_hub.decimals import DecimalError, parse_decimal
from odoo.addons.integration_hub.exceptions import (
    IntegrationBusinessError,
    WaitingForRecordError,
)


class IntegrationHandlerShift(models.AbstractModel):
    """shift.worked: the hours as an analytic line on a cost centre, at the employee's
    hourly cost."""

    _name = "integration.handler.shift"
    _inherit = "integration.handler.workforce"
    _description = "Integration Handler: shift.worked"

    def _handle(self, message, data):
        try:
            hours = parse_decimal(data["hours"], "data/hours", max_digits=6, max_decimals=2)
        except DecimalError as exc:
            raise IntegrationBusinessError(str(exc)) from exc
        shift_date = self._date(data["date"], "data/date")
        employee = self._employee(message, data["employee_id"], wait=True)
        department = (
            self._department_or_wait(message, data["department_code"])
            if data.get("department_code")
            else employee.department_id
        )
        cost_center = self._shift_cost_center(message, data, employee, department)
        hourly_cost = employee.hourly_cost
        amount = float_round(
            float(hours) * hourly_cost,
            precision_rounding=message.company_id.currency_id.rounding,
        )
        plan = cost_center.plan_id
        values = {
            "name": f"{data['id']} · {data.get('shift_type') or self.env._('shift')}",
            "date": shift_date,
            "unit_amount": float(hours),
            "amount": -amount,
            "company_id": message.company_id.id,
            plan._column_name(): cost_center.id,
            "integration_employee_id": employee.id,
            "integration_department_id": department.id,
            "integration_cost_center_id": cost_center.id,
            "integration_shift_type": data.get("shift_type") or False,
        }
        return self._upsert_bound(
            message, "account.analytic.line", data["id"], values, self._updated_at(data)
        )

    def _shift_cost_center(self, message, data, employee, department):
        """The shift's own cost centre, else the employee's, else the department's."""
        code = data.get("cost_center_code")
        if code:
            cost_center = self._cost_center(message, code)
            if not cost_center:
                raise self._waiting_for_cost_center(message, code)
            return cost_center
        cost_center = employee.integration_cost_center_id or department.integration_cost_center_id
        if not cost_center:
            raise IntegrationBusinessError(
                self.env._(
                    "Shift %(shift)s names no cost centre, and employee %(employee)s has "
                    "none: set the employee's or the department's cost centre, then retry.",
                    shift=data["id"],
                    employee=data["employee_id"],
                ),
                kind="unknown_record",
            )
        return cost_center

    def _waiting_for_cost_center(self, message, code):
        return WaitingForRecordError(
            "account.analytic.account",
            code,
            self.env._(
                "Cost centre '%(code)s' has not arrived from %(backend)s yet.",
                code=code,
                backend=message.backend_id.name,
            ),
        )
