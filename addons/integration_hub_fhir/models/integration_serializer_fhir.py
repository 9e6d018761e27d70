from odoo import models

PAYMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/payment-type"
PRICE_COMPONENTS = ("base", "tax")


class IntegrationSerializerFhir(models.AbstractModel):
    """invoice.posted as a FHIR R4 Invoice, payment.registered as a PaymentReconciliation."""

    _name = "integration.serializer.fhir"
    _inherit = "integration.serializer.billing"
    _description = "Integration Serializer: FHIR R4 resources"

    def _fhir_resource(self, event_code, record, subscription):
        if event_code == "invoice.posted":
            return self._fhir_invoice(record, subscription)
        if event_code == "payment.registered":
            return self._fhir_payment(record, subscription)
        return None

    def _money(self, currency, value):
        return {"value": float(currency.round(value)), "currency": currency.name}

    def _fhir_reference(self, partner, subscription):
        """A Patient or Organization reference by the subscriber's id, else by name."""
        backend = subscription.backend_id if subscription else None
        external_id = backend and self._external_id(backend, partner)
        kind = "Organization" if partner.is_company else "Patient"
        reference = {"type": kind, "display": partner.name}
        if external_id:
            reference["reference"] = f"{kind}/{external_id}"
        return reference

    def _fhir_invoice(self, move, subscription):
        currency = move.currency_id
        company = move.company_id
        lines = []
        for sequence, line in enumerate(
            move.invoice_line_ids.filtered(lambda line: line.display_type == "product"), start=1
        ):
            item = {
                "sequence": sequence,
                "priceComponent": [
                    {"type": "base", "amount": self._money(currency, line.price_subtotal)}
                ],
            }
            tax = line.price_total - line.price_subtotal
            if not currency.is_zero(tax):
                item["priceComponent"].append({"type": "tax", "amount": self._money(currency, tax)})
            charge = line.integration_charge_id
            if charge:
                item["chargeItemReference"] = {
                    "reference": f"ChargeItem/{charge.name}",
                    "display": line.name or charge.name,
                }
            else:
                item["chargeItemCodeableConcept"] = {"text": line.name or line.product_id.name}
            lines.append(item)
        resource = {
            "resourceType": "Invoice",
            "id": str(move.id),
            "identifier": [{"system": f"urn:odoo:{company.id}:invoice", "value": move.name}],
            "status": "cancelled" if move.state == "cancel" else "issued",
            "type": {"text": move.move_type},
            "recipient": self._fhir_reference(move.partner_id, subscription),
            "participant": [
                {
                    "role": {"text": "issuer"},
                    "actor": {"type": "Organization", "display": company.name},
                }
            ],
            "issuer": {"type": "Organization", "display": company.name},
            "lineItem": lines,
            "totalNet": self._money(currency, move.amount_untaxed),
            "totalGross": self._money(currency, move.amount_total),
        }
        if move.invoice_date:
            resource["date"] = move.invoice_date.isoformat()
        if move.integration_encounter_ref:
            resource["note"] = [{"text": f"Encounter/{move.integration_encounter_ref}"}]
        return resource

    def _fhir_payment(self, payment, subscription):
        currency = payment.currency_id
        details = [
            {
                "type": {"coding": [{"system": PAYMENT_TYPE_SYSTEM, "code": "payment"}]},
                "request": {"reference": f"Invoice/{invoice.id}", "display": invoice.name},
                "amount": self._money(currency, invoice.amount_total - invoice.amount_residual),
            }
            for invoice in payment.reconciled_invoice_ids
        ]
        resource = {
            "resourceType": "PaymentReconciliation",
            "id": str(payment.id),
            "identifier": [
                {"system": f"urn:odoo:{payment.company_id.id}:payment", "value": payment.name}
            ],
            "status": "cancelled" if payment.state == "canceled" else "active",
            "created": payment.create_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "paymentDate": payment.date.isoformat(),
            "paymentAmount": self._money(currency, payment.amount),
            "outcome": "complete",
        }
        if payment.partner_id:
            resource["paymentIssuer"] = self._fhir_reference(payment.partner_id, subscription)
        if payment.memo:
            resource["paymentIdentifier"] = {"value": payment.memo}
        if details:
            resource["detail"] = details
        return resource
