from odoo import models
from odoo.exceptions import UserError

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError

OPEN_PAYMENT_STATES = ("not_paid", "partial", "in_payment")


class IntegrationHandlerPatientMerge(models.AbstractModel):
    _name = "integration.handler.patient.merge"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: patient.merged"

    def _handle(self, message, data):
        binder = self.env["integration.binding"]
        survivor = self._bound_partner(message, data["id"], "patient")
        merged_id = str(data["merged_id"])
        merged = binder._to_internal(message.backend_id, "res.partner", merged_id)
        if merged and merged != survivor:
            self._move_to(merged, survivor)
        # The merged id now stands for the survivor: later messages naming it reach her,
        # and messages waiting for it go on.
        binder._bind(message.backend_id, merged_id, survivor, message=message)
        return survivor

    def _move_to(self, merged, survivor):
        """Bindings, appointments, charges and open invoices of ``merged`` go to
        ``survivor``; ``merged`` is archived (kept for the history it appears in).
        Every external id of ``merged``, of any backend, now stands for ``survivor``."""
        self.env["integration.binding"]._rebind(merged, survivor)
        self.env["integration.appointment"].search([("patient_id", "=", merged.id)]).write(
            {"patient_id": survivor.id}
        )
        self.env["integration.charge"].search([("patient_id", "=", merged.id)]).write(
            {"patient_id": survivor.id}
        )
        invoices = self.env["account.move"].search(
            [
                ("partner_id", "=", merged.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                "|",
                ("state", "=", "draft"),
                "&",
                ("state", "=", "posted"),
                ("payment_state", "in", OPEN_PAYMENT_STATES),
            ]
        )
        posted = invoices.filtered(lambda move: move.state == "posted")
        try:
            posted.button_draft()
            invoices.write({"partner_id": survivor.id})
            posted.action_post()
        except UserError as error:
            raise IntegrationBusinessError(
                self.env._(
                    "The open invoices of the merged patient cannot move to %(survivor)s: "
                    "%(error)s",
                    survivor=survivor.display_name,
                    error=error,
                ),
                kind="conflict",
            ) from error
        merged.active = False
