from odoo import models


class IntegrationSerializerPayment(models.AbstractModel):
    """payment.registered: a posted payment and the invoices it paid."""

    _name = "integration.serializer.payment"
    _inherit = "integration.serializer.billing"
    _description = "Integration Serializer: payment.registered"

    def _serialize(self, event_type, record, subscription=None):
        currency = record.currency_id
        backend = subscription.backend_id if subscription else None
        return {
            "id": str(record.id),
            "external_id": self._external_id(backend, record) if backend else None,
            "reference": record.name,
            "payment_type": record.payment_type,
            "partner_type": record.partner_type,
            "partner": self._partner(record.partner_id, subscription),
            "date": self._value(record, "date"),
            "currency": currency.name,
            "amount": self._amount(currency, record.amount),
            "memo": record.memo or None,
            "invoices": [
                {
                    "id": str(invoice.id),
                    "number": invoice.name,
                    "amount_residual": self._amount(currency, invoice.amount_residual),
                    "payment_state": invoice.payment_state,
                }
                for invoice in record.reconciled_invoice_ids
            ],
        }
