from decimal import Decimal

from odoo import fields, models

from odoo.addons.integration_hub.exceptions import (
    IntegrationBusinessError,
    WaitingForRecordError,
)


class IntegrationHandlerPayment(models.AbstractModel):
    _name = "integration.handler.payment"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: payment.posted"

    def _handle(self, message, data):
        external_id = str(data["id"])
        existing = self._bound(message, "account.payment", external_id)
        if existing:
            return existing
        currency = self._currency(message, data.get("currency"))
        amount = self._amount(data, "amount")
        if currency.is_zero(float(amount)):
            raise IntegrationBusinessError(
                self.env._("Payment %(id)s has no amount.", id=external_id)
            )
        if data.get("payer_id"):
            side, partner = "payer", self._bound_partner(message, data["payer_id"], "payer")
        elif data.get("patient_id"):
            side, partner = "patient", self._bound_partner(message, data["patient_id"], "patient")
        else:
            raise IntegrationBusinessError(
                self.env._("Payment %(id)s names neither a payer nor a patient.", id=external_id)
            )
        allocations = data.get("allocations") or []
        allocated = sum(
            (self._amount(allocation, "amount") for allocation in allocations),
            Decimal(0),
        )
        if currency.compare_amounts(float(allocated), float(amount)) > 0:
            raise IntegrationBusinessError(
                self.env._(
                    "Payment %(id)s of %(amount)s allocates %(allocated)s to its charges.",
                    id=external_id,
                    amount=amount,
                    allocated=allocated,
                ),
                kind="amount_mismatch",
            )
        invoices = self.env["account.move"]
        for allocation in allocations:
            invoices |= self._allocated_invoices(message, allocation, side, partner)
        try:
            date = fields.Date.to_date(data.get("date")) or fields.Date.context_today(self)
        except ValueError as error:
            raise IntegrationBusinessError(
                self.env._("date '%(value)s' is not a date.", value=data["date"])
            ) from error
        memo = " ".join(filter(None, [data.get("reference"), external_id]))
        payment = invoices._integration_register_payment(
            message.backend_id, partner, amount, date=date, memo=memo, currency=currency
        )
        self._bind(message, payment, external_id)
        return payment

    def _allocated_invoices(self, message, allocation, side, partner):
        """The posted invoices an allocation pays; waits while they are not there."""
        if allocation.get("charge_id"):
            reference = allocation["charge_id"]
            charge = self._bound(message, "integration.charge", reference)
            if charge and charge.currency_id.is_zero(charge[f"{side}_share"]):
                raise IntegrationBusinessError(
                    self.env._(
                        "Charge %(charge)s has no %(side)s share to pay.",
                        charge=reference,
                        side=side,
                    ),
                    kind="amount_mismatch",
                    record=charge,
                )
            invoices = charge.invoice_line_ids.filtered(
                lambda line: (
                    line.integration_share == side and line.move_id.move_type == "out_invoice"
                )
            ).move_id
        elif allocation.get("encounter_id"):
            reference = allocation["encounter_id"]
            invoices = self.env["account.move"].search(
                [
                    ("move_type", "=", "out_invoice"),
                    ("integration_backend_id", "=", message.backend_id.id),
                    ("integration_encounter_ref", "=", reference),
                    ("partner_id", "=", partner.id),
                    ("state", "!=", "cancel"),
                ]
            )
        else:
            raise IntegrationBusinessError(
                self.env._("A payment allocation needs a charge_id or an encounter_id.")
            )
        posted = invoices.filtered(lambda m: m.state == "posted")
        if not posted:
            # Woken when the charge (or the encounter's appointment) is bound, or when
            # its invoice is posted.
            raise WaitingForRecordError(
                "integration.charge" if allocation.get("charge_id") else "integration.appointment",
                reference,
                self.env._(
                    "No posted invoice of %(partner)s for %(reference)s yet: the payment "
                    "waits for it.",
                    partner=partner.display_name,
                    reference=reference,
                ),
                kind="unmatched_payment",
            )
        return posted
