from decimal import Decimal

from odoo import fields, models
from odoo.fields import Command

from odoo.addons.integration_hub.exceptions import (
    IntegrationBusinessError,
    WaitingForRecordError,
)


class IntegrationHandlerRefund(models.AbstractModel):
    _name = "integration.handler.refund"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: refund.issued"

    def _handle(self, message, data):
        external_id = f"refund:{data['id']}"
        existing = self._bound(message, "account.move", external_id)
        if existing:
            return existing
        amount = self._amount(data, "amount")
        side = "payer" if data.get("payer_id") else "patient"
        charge = self._bound(message, "integration.charge", data["charge_id"])
        line = charge.invoice_line_ids.filtered(
            lambda line: (
                line.integration_share == side
                and line.move_id.move_type == "out_invoice"
                and line.move_id.state == "posted"
            )
        )[:1]
        if not line:
            raise WaitingForRecordError(
                "integration.charge",
                data["charge_id"],
                self.env._(
                    "No posted invoice of the %(side)s share of charge %(charge)s yet: the "
                    "refund waits for it.",
                    side=side,
                    charge=data["charge_id"],
                ),
                kind="unknown_record",
            )
        invoice = line.move_id
        if invoice.currency_id.compare_amounts(float(amount), line.price_total) > 0:
            raise IntegrationBusinessError(
                self.env._(
                    "Refund %(id)s of %(amount)s exceeds the %(total)s invoiced for charge "
                    "%(charge)s on %(invoice)s.",
                    id=data["id"],
                    amount=amount,
                    total=line.price_total,
                    charge=charge.name,
                    invoice=invoice.name,
                ),
                kind="amount_mismatch",
                record=invoice,
            )
        try:
            date = fields.Date.to_date(data.get("date")) or fields.Date.context_today(self)
        except ValueError as error:
            raise IntegrationBusinessError(
                self.env._("date '%(value)s' is not a date.", value=data["date"])
            ) from error
        # The refund is tax included: credit the same product and taxes for that total.
        untaxed_ratio = Decimal(str(line.price_subtotal)) / Decimal(str(line.price_total))
        credit_note = (
            self.env["account.move"]
            .with_company(invoice.company_id)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": invoice.partner_id.id,
                    "currency_id": invoice.currency_id.id,
                    "reversed_entry_id": invoice.id,
                    "invoice_date": date,
                    "ref": " ".join(filter(None, [data["id"], data.get("reason")])),
                    "integration_backend_id": message.backend_id.id,
                    "integration_encounter_ref": invoice.integration_encounter_ref,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "name": line.name,
                                "account_id": line.account_id.id,
                                "tax_ids": [Command.set(line.tax_ids.ids)],
                                "quantity": 1.0,
                                "price_unit": float(amount * untaxed_ratio),
                                "integration_charge_id": charge.id,
                                "integration_share": side,
                            }
                        )
                    ],
                }
            )
        )
        credit_note._integration_post()
        receivable = (invoice | credit_note).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        )
        if invoice.line_ids & receivable:
            receivable.reconcile()
        self._bind(message, credit_note, external_id)
        return credit_note
