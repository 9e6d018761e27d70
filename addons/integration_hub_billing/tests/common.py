from odoo import Command

from odoo.addons.integration_hub.tests.common import IntegrationHubCase


def event(event_type, **data):
    return {"type": event_type, "timestamp": "2026-11-21T09:00:00Z", "data": data}


def patient_event(patient_id="PAT-1", name="Jane Doe", **data):
    return event("patient.upserted", id=patient_id, name=name, **data)


def payer_event(payer_id="PAY-1", name="Acme Health Insurance", **data):
    return event("payer.upserted", id=payer_id, name=name, **data)


def charge_event(charge_id="CHG-1", **data):
    values = {
        "id": charge_id,
        "encounter_id": "APT-1",
        "patient_id": "PAT-1",
        "payer_id": "PAY-1",
        "service_code": "99213",
        "quantity": "1",
        "unit_price": "120.00",
        "currency": "USD",
        "service_date": "2026-11-21",
        "patient_share": "20.00",
        "payer_share": "100.00",
    }
    values.update(data)
    return event("charge.captured", **{k: v for k, v in values.items() if v is not None})


def payment_event(payment_id="PMT-1", amount="100.00", allocations=None, **data):
    values = {
        "id": payment_id,
        "payer_id": "PAY-1",
        "amount": amount,
        "currency": "USD",
        "date": "2026-11-25",
        "reference": "EFT-1",
        "allocations": [{"charge_id": "CHG-1", "amount": amount}]
        if allocations is None
        else allocations,
    }
    values.update(data)
    return event("payment.posted", **{k: v for k, v in values.items() if v is not None})


def appointment_event(state, appointment_id="APT-1", updated_at="2026-11-21T08:21:00Z", **data):
    values = {
        "id": appointment_id,
        "patient_id": "PAT-1",
        "provider_id": "PRV-77",
        "location_code": "CLINIC-N",
        "service_code": "99213",
        "start": "2026-11-21T08:00:00Z",
        "end": "2026-11-21T08:20:00Z",
        "status": state,
        "updated_at": updated_at,
    }
    values.update(data)
    return event(f"appointment.{state}", **values)


class BillingCase(IntegrationHubCase):
    """Factories of the billing tests, on top of the hub's (mix into an Odoo case)."""

    @classmethod
    def _setup_billing(cls, company=None):
        # Jobs run as the webhook's, in superuser mode, in the backend's company.
        cls.env = cls.env(su=True, context=dict(cls.env.context, tracking_disable=True))
        company = company or cls.env.company
        if company.currency_id.name != "USD":
            company.currency_id = cls.env.ref("base.USD")
        cls.env.ref("base.USD").active = True
        cls.contact_type = cls.env.ref("integration_hub.integration_event_type_contact_upserted")
        cls.billing_types = cls._flow_event_types("integration_hub_billing")
        cls.product_visit = cls._service_product("Office visit", company)
        cls.tax_10 = cls.env["account.tax"].create(
            {
                "name": "Service tax 10%",
                "amount": 10.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": company.id,
            }
        )
        cls.product_taxed = cls._service_product("Taxed procedure", company, cls.tax_10)
        cls.backend, cls.endpoint = cls._create_billing_backend(company)

    @classmethod
    def _service_product(cls, name, company, taxes=None):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "service",
                "list_price": 1.0,
                "company_id": company.id,
                "taxes_id": [Command.set(taxes.ids if taxes else [])],
            }
        )

    @classmethod
    def _create_billing_backend(cls, company, **values):
        backend = cls._create_backend(
            **dict(
                {
                    "name": f"Test billing {company.name}",
                    "system_type": "billing",
                    "company_id": company.id,
                    "latency_tier": "realtime",
                    "charge_auto_approve": True,
                    "invoice_auto_post": True,
                },
                **values,
            )
        )
        endpoint = cls._create_endpoint(
            backend, event_type_ids=[Command.set(cls.billing_types.ids)], name="Test billing"
        )
        products = (cls.product_visit, cls.product_taxed)
        if company != cls.product_visit.company_id:
            products = (
                cls._service_product("Office visit", company),
                cls._service_product("Taxed procedure", company),
            )
        for code, product in zip(("99213", "99214"), products, strict=True):
            cls.env["integration.code.map"].create(
                {
                    "backend_id": backend.id,
                    "kind": "service",
                    "external_code": code,
                    "record_ref": f"product.product,{product.id}",
                }
            )
        return backend, endpoint

    def _send(self, event, endpoint=None):
        """A stored, queued message of ``event``, as the webhook leaves it."""
        endpoint = endpoint or self.endpoint
        company_env = self.env["integration.message"].with_company(endpoint.company_id).env
        return self._store_event(event, endpoint, env=company_env)

    def _process(self, event, endpoint=None, expect="done"):
        message = self._send(event, endpoint)
        self._perform_job(message)
        if expect:
            self.assertEqual(message.state, expect, message.last_error)
        return message

    def _result(self, message):
        return self.env[message.result_model].browse(message.result_res_id)

    def _bound(self, model, external_id, backend=None):
        return self.env["integration.binding"]._to_internal(
            backend or self.backend, model, external_id
        )

    def _setup_parties(self, endpoint=None):
        self._process(patient_event(), endpoint)
        self._process(payer_event(), endpoint)

    def _invoices_of(self, charge, side):
        return charge.invoice_line_ids.filtered(
            lambda line: line.integration_share == side and line.move_id.move_type == "out_invoice"
        ).move_id
