from odoo import models


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
            self._wait_or_raise(
                message,
                self.env._(
                    "No invoice of %(payer)s for encounter %(encounter)s yet: the claim "
                    "status waits for it.",
                    payer=payer.display_name,
                    encounter=data["encounter_id"],
                ),
                "unknown_record",
            )
        updated_at = self._parse_datetime(data.get("updated_at"), "updated_at")
        binding = self._binding(message, "account.move", external_id)
        if (
            binding
            and updated_at
            and binding.external_updated_at
            and updated_at < binding.external_updated_at
        ):
            return invoices[:1]
        reason = " ".join(filter(None, [data.get("reason_code"), data.get("reason")]))
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
                    reason=f" ({reason})" if reason else "",
                )
            )
        binding_values = {"last_message_id": message.id, "res_id": invoices[0].id}
        if updated_at:
            binding_values["external_updated_at"] = updated_at
        if binding:
            binding.write(binding_values)
        else:
            self.env["integration.binding"].create(
                dict(
                    binding_values,
                    backend_id=message.backend_id.id,
                    res_model="account.move",
                    external_id=external_id,
                )
            )
        return invoices[:1]
