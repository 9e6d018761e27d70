from odoo import models

from odoo.addons.integration_hub.exceptions import (
    IntegrationBusinessError,
    WaitingForRecordError,
)


class IntegrationHandlerChargeCancel(models.AbstractModel):
    _name = "integration.handler.charge.cancel"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: charge.cancelled"

    def _handle(self, message, data):
        charge = self._bound(message, "integration.charge", str(data["id"]))
        if not charge:
            raise WaitingForRecordError(
                "integration.charge",
                data["id"],
                self.env._(
                    "Charge %(id)s was entered in error, but it has not arrived yet.",
                    id=data["id"],
                ),
                kind="unknown_record",
            )
        if charge.state == "rejected":
            return charge
        if charge.state == "invoiced":
            raise IntegrationBusinessError(
                self.env._(
                    "Charge %(id)s was entered in error, but it is already invoiced on "
                    "%(invoices)s: reverse it with a credit note, then close this exception.",
                    id=charge.name,
                    invoices=", ".join(charge.invoice_ids.mapped("display_name")),
                ),
                kind="conflict",
            )
        charge.action_reject()
        charge.message_post(body=self.env._("Cancelled: the billing system entered it in error."))
        return charge
