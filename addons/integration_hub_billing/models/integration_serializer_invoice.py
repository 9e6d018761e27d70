from odoo import models


class IntegrationSerializerInvoice(models.AbstractModel):
    """invoice.posted: a posted customer invoice or credit note, with its lines."""

    _name = "integration.serializer.invoice"
    _inherit = "integration.serializer.billing"
    _description = "Integration Serializer: invoice.posted"

    def _serialize(self, event_type, record, subscription=None):
        currency = record.currency_id
        return {
            "id": str(record.id),
            "number": record.name,
            "move_type": record.move_type,
            "partner": self._partner(record.partner_id, subscription),
            "invoice_date": self._value(record, "invoice_date"),
            "due_date": self._value(record, "invoice_date_due"),
            "currency": currency.name,
            "amount_untaxed": self._amount(currency, record.amount_untaxed),
            "amount_tax": self._amount(currency, record.amount_tax),
            "amount_total": self._amount(currency, record.amount_total),
            "amount_residual": self._amount(currency, record.amount_residual),
            "encounter_id": record.integration_encounter_ref or None,
            "reversed_invoice_id": str(record.reversed_entry_id.id)
            if record.reversed_entry_id
            else None,
            "lines": [
                {
                    "charge_id": line.integration_charge_id.name or None,
                    "share": line.integration_share or None,
                    "description": line.name,
                    "quantity": self._value(line, "quantity"),
                    "unit_price": self._amount(currency, line.price_unit),
                    "subtotal": self._amount(currency, line.price_subtotal),
                    "total": self._amount(currency, line.price_total),
                }
                for line in record.invoice_line_ids
                if line.display_type == "product"
            ],
        }
