from odoo import models

from odoo.addons.integration_hub.exceptions import IntegrationBusinessError
from odoo.addons.queue_job.exception import RetryableJobError

from ..amounts import parse_decimal
from ..exceptions import UnmappedCodeError

# data key -> res.partner field kept for billing; anything else (clinical data) is dropped.
BILLING_PARTNER_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "street": "street",
    "city": "city",
    "zip": "zip",
}


class IntegrationHandlerBilling(models.AbstractModel):
    """Helpers shared by the revenue cycle's handlers."""

    _name = "integration.handler.billing"
    _inherit = "integration.handler"
    _description = "Integration Handler: billing helpers"

    def _decimal(self, data, key, minimum=None, default=None):
        """``data[key]`` as a Decimal; a clear business error when it is no number."""
        if data.get(key) is None:
            if default is not None:
                return default
            raise IntegrationBusinessError(
                self.env._("The amount '%(field)s' is missing.", field=key)
            )
        try:
            return parse_decimal(data[key], minimum=minimum)
        except ValueError as error:
            raise IntegrationBusinessError(
                self.env._("The amount '%(field)s' is invalid: %(error)s", field=key, error=error)
            ) from error

    def _currency(self, message, code):
        company_currency = message.company_id.currency_id
        if not code or code == company_currency.name:
            return company_currency
        currency = self.env["res.currency"].search([("name", "=", code)], limit=1)
        if not currency:
            raise IntegrationBusinessError(
                self.env._(
                    "The currency '%(code)s' is not active in Odoo: activate it, then retry.",
                    code=code,
                ),
                kind="unknown_record",
            )
        return currency

    def _partner_values(self, message, data):
        values = {field: data[key] for key, field in BILLING_PARTNER_FIELDS.items() if key in data}
        if data.get("country_code"):
            values["country_id"] = self._country(data["country_code"]).id
        values["company_id"] = message.company_id.id
        return values

    def _wait_or_raise(self, message, explanation, kind):
        """The record an event refers to is not there yet: retry on the backend's
        schedule (it may arrive out of order), and after the last attempt hand the
        message to a person as an exception — never drop it."""
        if message.attempt_count + 1 < message.backend_id.max_attempts:
            raise RetryableJobError(explanation)
        raise IntegrationBusinessError(
            self.env._(
                "%(explanation)s Still missing after %(attempts)s attempts.",
                explanation=explanation,
                attempts=message.attempt_count + 1,
            ),
            kind=kind,
        )

    def _bound_partner(self, message, external_id, role):
        """The patient or payer bound to ``external_id``; waits while it is unknown."""
        binding = self._binding(message, "res.partner", str(external_id))
        partner = binding._record() if binding else self.env["res.partner"]
        if not partner:
            self._wait_or_raise(
                message,
                self.env._(
                    "Unknown %(role)s '%(id)s' of %(backend)s: send its %(role)s.upserted "
                    "event first.",
                    role=role,
                    id=external_id,
                    backend=message.backend_id.name,
                ),
                "unknown_payer" if role == "payer" else "unknown_record",
            )
        return partner

    def _bound(self, message, model, external_id):
        binding = self._binding(message, model, str(external_id))
        return binding._record() if binding else self.env[model]

    def _bind(self, message, record, external_id):
        self.env["integration.binding"].create(
            {
                "backend_id": message.backend_id.id,
                "res_model": record._name,
                "res_id": record.id,
                "external_id": str(external_id),
                "last_message_id": message.id,
            }
        )

    def _service_product(self, message, code):
        record = self.env["integration.code.map"]._lookup(message.backend_id, "service", code)
        if record and record._name == "product.template":
            record = record.product_variant_id
        if not record or record._name != "product.product":
            raise UnmappedCodeError(
                self.env._(
                    "The service code '%(code)s' of %(backend)s is not mapped to a product. "
                    "Use 'Map code and retry' to pick one.",
                    code=code,
                    backend=message.backend_id.name,
                ),
                code_kind="service",
                code=code,
            )
        if record.company_id and record.company_id != message.company_id:
            raise UnmappedCodeError(
                self.env._(
                    "The service code '%(code)s' of %(backend)s is mapped to %(product)s, a "
                    "product of another company: map it to a product of %(company)s.",
                    code=code,
                    backend=message.backend_id.name,
                    product=record.display_name,
                    company=message.company_id.name,
                ),
                code_kind="service",
                code=code,
            )
        return record
