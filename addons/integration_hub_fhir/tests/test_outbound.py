import json
from decimal import Decimal

from fhir.resources.R4B.invoice import Invoice
from fhir.resources.R4B.paymentreconciliation import PaymentReconciliation

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.integration_hub.tests.common import RealRequestsMixin

from .common import FhirCase


@tagged("post_install", "-at_install")
class TestOutboundFhir(RealRequestsMixin, FhirCase, AccountTestInvoicingCommon):
    """invoice.posted and payment.registered delivered as FHIR R4 resources."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_fhir()
        cls.receiver = cls._serve_outbound(cls.backend, "/fhir")
        for code in ("invoice.posted", "payment.registered"):
            cls.env["integration.subscription"].create(
                {
                    "backend_id": cls.backend.id,
                    "event_type_id": cls.env["integration.event.type"]
                    .search([("code", "=", code), ("direction", "=", "out")])
                    .id,
                    "payload_format": "fhir_r4",
                }
            )

    def setUp(self):
        super().setUp()
        self.receiver.requests.clear()
        self._process_fhir("Patient")
        self._process_fhir("Organization-payer")
        self._process_fhir("Encounter")
        self._process_fhir("Coverage")

    def _deliver(self, code):
        messages = self.env["integration.message"].search(
            [("direction", "=", "out"), ("event_type", "=", code)], order="id"
        )
        for message in messages:
            self._perform_job(message)
            self.assertEqual(message.state, "done", message.last_error)
        ids = messages.mapped("sender_message_id")
        return [r for r in self.receiver.requests if r.headers["webhook-id"] in ids]

    def test_posted_invoices_arrive_as_valid_fhir_invoices_with_charge_references(self):
        self._process_fhir("ChargeItem")
        received = self._deliver("invoice.posted")
        self.assertEqual(len(received), 2, "a payer and a patient invoice")
        invoices = {}
        for request in received:
            self.assertTrue(request.verified)
            resource = json.loads(request.body, parse_float=Decimal)
            Invoice.model_validate(resource)  # raises on any structural error
            invoices[resource["recipient"]["reference"]] = resource
        payer = invoices["Organization/PAY-ACME"]
        self.assertEqual(payer["totalGross"], {"value": Decimal("100.0"), "currency": "USD"})
        (line,) = payer["lineItem"]
        self.assertEqual(line["chargeItemReference"]["reference"], "ChargeItem/CHG-9001")
        self.assertEqual(line["priceComponent"][0]["type"], "base")
        self.assertEqual(invoices["Patient/PAT-000123"]["totalNet"]["value"], Decimal("20.0"))

    def test_registered_payment_arrives_as_a_valid_payment_reconciliation(self):
        self._process_fhir("ChargeItem")
        self._deliver("invoice.posted")
        self._process_fhir("PaymentReconciliation")
        (request,) = self._deliver("payment.registered")
        resource = json.loads(request.body, parse_float=Decimal)
        PaymentReconciliation.model_validate(resource)
        self.assertEqual(resource["paymentAmount"]["value"], Decimal("100.0"))
        self.assertEqual(resource["paymentIssuer"]["reference"], "Organization/PAY-ACME")
        (detail,) = resource["detail"]
        self.assertTrue(detail["request"]["reference"].startswith("Invoice/"))
        self.assertEqual(detail["amount"]["value"], Decimal("100.0"))

    def test_fhir_format_is_refused_for_events_it_cannot_express(self):
        contact = self.env["integration.event.type"].search(
            [("code", "=", "contact.upserted"), ("direction", "=", "out")]
        )
        with self.assertRaises(ValidationError):
            self.env["integration.subscription"].create(
                {
                    "backend_id": self.backend.id,
                    "event_type_id": contact.id,
                    "payload_format": "fhir_r4",
                }
            )
