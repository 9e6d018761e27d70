from odoo import models

from odoo.addons.integration_hub.exceptions import WaitingForRecordError


class IntegrationHandlerClaim(models.AbstractModel):
    _name = "integration.handler.claim"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: claim.status_changed"

    def _handle(self, message, data):
        external_id = f"claim:{data['id']}"
        payer = self._bound_partner(message, data["payer_id"], "payer")
        invoices = self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("integration_backend_id", "=", message.backend_id.id),
                ("integration_encounter_ref", "=", data["encounter_id"]),
                ("partner_id", "=", payer.id),
                ("state", "!=", "cancel"),
            ]
        )
        if not invoices:
            raise WaitingForRecordError(
                "integration.appointment",
                data["encounter_id"],
                self.env._(
                    "No invoice of %(payer)s for encounter %(encounter)s yet: the claim "
                    "status waits for it.",
                    payer=payer.display_name,
                    encounter=data["encounter_id"],
                ),
                kind="unknown_record",
            )
        updated_at = self._parse_datetime(data.get("updated_at"), "updated_at")
        binder = self.env["integration.binding"]
        if binder._is_stale(message.backend_id, "account.move", external_id, updated_at):
            return invoices[:1]
        reason = " ".join(filter(None, [data.get("reason_code"), data.get("reason")]))
        # Not in the call: an f-string argument of _() hides the whole file's terms
        # from the translation exporter (babel).
        because = f" ({reason})" if reason else ""
        values = {
            "integration_claim_ref": data["id"],
            "integration_claim_status": data["status"],
            "integration_claim_reason": reason or False,
        }
        for invoice in invoices:
            if all(invoice[field] == value for field, value in values.items()):
                continue
            invoice.write(values)
            invoice.message_post(
                body=self.env._(
                    "Claim %(claim)s is now %(status)s%(reason)s.",
                    claim=data["id"],
                    status=data["status"],
                    reason=because,
                )
            )
        self._bind(message, invoices[0], external_id, updated_at=updated_at)
        return invoices[:1]
