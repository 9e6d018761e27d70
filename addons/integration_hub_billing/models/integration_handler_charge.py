from decimal import Decimal

from odoo import fields, models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError


class IntegrationHandlerCharge(models.AbstractModel):
    _name = "integration.handler.charge"
    _inherit = "integration.handler.billing"
    _description = "Integration Handler: charge.captured"

    def _handle(self, message, data):
        external_id = str(data["id"])
        currency = self._currency(message, data.get("currency"))
        quantity = self._amount(data, "quantity")
        if not quantity:
            raise IntegrationBusinessError(self.env._("The quantity of a charge cannot be 0."))
        unit_price = self._amount(data, "unit_price")
        total = quantity * unit_price
        patient_share, payer_share = self._shares(data, total, currency)
        existing = self._bound(message, "integration.charge", external_id)
        if existing:
            return self._check_same_charge(existing, total, patient_share, payer_share)
        patient = self._bound_partner(message, data["patient_id"], "patient")
        payer = self.env["res.partner"]
        if data.get("payer_id"):
            payer = self._bound_partner(message, data["payer_id"], "payer")
        elif not currency.is_zero(float(payer_share)):
            raise IntegrationBusinessError(
                self.env._("Charge %(id)s has a payer share but no payer.", id=external_id),
                kind="amount_mismatch",
            )
        product = self._service_product(message, data["service_code"])
        encounter = data.get("encounter_id")
        try:
            service_date = fields.Date.to_date(data.get("service_date"))
        except ValueError as error:
            raise IntegrationBusinessError(
                self.env._("service_date '%(value)s' is not a date.", value=data["service_date"])
            ) from error
        charge = self.env["integration.charge"].create(
            {
                "name": external_id,
                "backend_id": message.backend_id.id,
                "message_id": message.id,
                "encounter_ref": encounter,
                "appointment_id": encounter
                and self._bound(message, "integration.appointment", encounter).id,
                "patient_id": patient.id,
                "payer_id": payer.id,
                "provider_ref": data.get("provider_id"),
                "service_code": data["service_code"],
                "product_id": product.id,
                "description": data.get("description"),
                "quantity": float(quantity),
                "unit_price": float(unit_price),
                "currency_id": currency.id,
                "service_date": service_date or fields.Date.context_today(self),
                "amount_total": float(total),
                "patient_share": float(patient_share),
                "payer_share": float(payer_share),
            }
        )
        self._bind(message, charge, external_id)
        charge._auto_approve()
        return charge

    def _review_usual_value(self, message, data, path):
        """The service's usual price: its product's sales price (None for a code not
        mapped yet, which the handler reports)."""
        if path != "unit_price":
            return None
        try:
            product = self._service_product(message, data["service_code"])
        except IntegrationBusinessError:
            return None
        return product.lst_price or None

    def _shares(self, data, total, currency):
        """(patient share, payer share): a missing one is the rest of the total; both
        missing bill the payer when there is one, else the patient."""
        zero = Decimal(0)
        patient = self._amount(data, "patient_share", default=False)
        payer = self._amount(data, "payer_share", default=False)
        if patient is False and payer is False:
            patient, payer = (zero, total) if data.get("payer_id") else (total, zero)
        elif patient is False:
            patient = total - payer
        elif payer is False:
            payer = total - patient
        if (
            patient < 0
            or payer < 0
            or currency.compare_amounts(float(patient + payer), float(total))
        ):
            raise IntegrationBusinessError(
                self.env._(
                    "Charge %(id)s: patient share %(patient)s and payer share %(payer)s do not "
                    "add up to quantity × unit price = %(total)s.",
                    id=data["id"],
                    patient=patient,
                    payer=payer,
                    total=total,
                ),
                kind="amount_mismatch",
            )
        return patient, payer

    def _check_same_charge(self, charge, total, patient_share, payer_share):
        """A charge sent again is the same charge: nothing changes, unless its amounts
        differ, which a person must look at."""
        currency = charge.currency_id
        if (
            currency.compare_amounts(charge.amount_total, float(total))
            or currency.compare_amounts(charge.patient_share, float(patient_share))
            or currency.compare_amounts(charge.payer_share, float(payer_share))
        ):
            raise IntegrationBusinessError(
                self.env._(
                    "Charge %(id)s was already captured with a total of %(old)s; this event "
                    "says %(new)s. Correct it in the billing system with a refund or a new "
                    "charge.",
                    id=charge.name,
                    old=charge.amount_total,
                    new=total,
                ),
                kind="amount_mismatch",
                record=charge,
            )
        return charge
