from datetime import date

from odoo import models

from odoo.addons.integration_hub.exceptions import (
    IntegrationBusinessError,
    WaitingForRecordError,
)


class IntegrationHandlerWorkforce(models.AbstractModel):
    """What the workforce handlers share: finding cost centres, departments and
    employees by the references the HR system uses, and links that wait for them."""

    _name = "integration.handler.workforce"
    _inherit = "integration.handler"
    _description = "Integration Handler: workforce base"

    # Finding records by their HR references ----------------------------------

    def _cost_center_plan(self):
        """The Cost Centers analytic plan, one for every company (see its data file)."""
        plan = self.env.ref(
            "integration_hub_workforce.account_analytic_plan_cost_centers",
            raise_if_not_found=False,
        )
        if not plan:
            raise IntegrationBusinessError(
                self.env._(
                    "The Cost Centers analytic plan was deleted: update the Integration Hub: "
                    "Workforce addon to create it again, then retry."
                )
            )
        return plan

    def _cost_center(self, message, code):
        """The cost centre (analytic account) of ``code`` of the company, in the Cost
        Centers plan."""
        plan = self._cost_center_plan()
        return (
            self.env["account.analytic.account"]
            .with_context(active_test=False)
            .search(
                [
                    ("plan_id", "=", plan.id),
                    ("code", "=", code),
                    ("company_id", "=", message.company_id.id),
                ],
                limit=1,
            )
        )

    def _department(self, message, code):
        return (
            self.env["hr.department"]
            .with_context(active_test=False)
            .search(
                [("integration_code", "=", code), ("company_id", "=", message.company_id.id)],
                limit=1,
            )
        )

    def _employee(self, message, external_id, wait=False):
        """The employee bound to ``external_id`` (archived ones too)."""
        binder = self.env["integration.binding"].with_context(active_test=False)
        return binder._to_internal(message.backend_id, "hr.employee", external_id, wait=wait)

    def _department_or_wait(self, message, code):
        """The department of ``code``, or wait for it (retried as soon as it arrives)."""
        department = self._department(message, code)
        if not department:
            raise WaitingForRecordError(
                "hr.department",
                code,
                self.env._(
                    "Department '%(code)s' has not arrived from %(backend)s yet.",
                    code=code,
                    backend=message.backend_id.name,
                ),
            )
        return department

    # Creating and updating -----------------------------------------------------

    def _upsert_hr(self, message, model, external_id, values, updated_at, *, binding=None):
        """``_upsert_bound`` for the HR records (archived ones included), created
        without the chatter's "created" note and without the hub's technical user as
        their follower: the message that created them (payload, attempt, binding) is
        their audit trail, and a technical user following every employee of a
        snapshot is noise (and three inserts each). Later changes are still tracked
        in their chatter, for HR people."""
        return self.with_context(
            active_test=False, mail_create_nolog=True, mail_create_nosubscribe=True
        )._upsert_bound(message, model, external_id, values, updated_at, binding=binding)

    # Links that may arrive later ---------------------------------------------

    def _link(self, message, record, field_name, target_kind, ref, *, new=False):
        """Set ``record.field_name`` to the record ``ref`` names; if it has not arrived,
        empty the field and let the link wait for it (see integration.workforce.link).
        ``new``: the record was created by this message, so no link of it waits yet."""
        finders = {
            "department": self._department,
            "employee": self._employee,
            "cost_center": self._cost_center,
        }
        target = finders[target_kind](message, ref) if ref else None
        links = self.env["integration.workforce.link"]
        if target:
            links._set(message, record, field_name, target_kind, None, new=new)
            if record[field_name] != target:
                record[field_name] = target
        else:
            links._set(message, record, field_name, target_kind, ref, new=new)
            if record[field_name]:
                record[field_name] = False

    def _arrived(self, message, target_kind, ref, record):
        """``record`` arrived as ``ref``: fill in the links that waited for it, and
        retry at once the messages waiting for it by that reference (departments and
        cost centres are named by their code, not by the id their binding holds)."""
        self.env["integration.workforce.link"]._fulfil(message.backend_id, target_kind, ref, record)
        if target_kind != "employee":
            self.env["integration.message"]._wake_waiting(message.backend_id, record._name, ref)

    # Values -------------------------------------------------------------------

    def _date(self, value, path):
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise IntegrationBusinessError(
                self.env._("%(path)s is not an ISO 8601 date (YYYY-MM-DD).", path=path)
            ) from exc

    def _updated_at(self, data):
        return self._parse_datetime(data.get("updated_at"), "data/updated_at")
