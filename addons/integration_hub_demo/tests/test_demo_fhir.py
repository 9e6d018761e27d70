import json

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase

from .test_demo import SAMPLES as EVENT_SAMPLES
from .test_demo import SHARED_SAMPLES as SHARED_EVENT_SAMPLES

SAMPLES = EVENT_SAMPLES.parent / "fhir"
SHARED_SAMPLES = SHARED_EVENT_SAMPLES.parent / "fhir"
# As a FHIR server sends them: who, the visit, the charge, the money.
FHIR_ORDER = (
    "Patient",
    "Organization-payer",
    "Coverage",
    "Encounter",
    "ChargeItem",
    "PaymentReconciliation",
)


@tagged("post_install", "-at_install")
class TestDemoFhir(IntegrationHubCase, HttpCase):
    def _send(self, name):
        response = self.url_open(
            "/integration/fhir/demo-fhir",
            data=(SAMPLES / f"{name}.json").read_bytes(),
            headers={
                "Content-Type": "application/fhir+json",
                "Authorization": "Bearer demo-fhir-token",
            },
        )
        return response

    def _run_queued(self):
        for message in self.env["integration.message"].search(
            [("endpoint_id.token", "=", "demo-fhir"), ("state", "in", ("queued", "retrying"))],
            order="id",
        ):
            self._perform_job(message)

    def test_fhir_samples_match_the_shared_contract(self):
        samples = sorted(SAMPLES.glob("*.json"))
        self.assertEqual(len(samples), 7)
        if SHARED_SAMPLES.is_dir():
            for path in samples:
                with self.subTest(sample=path.name):
                    self.assertEqual(
                        json.loads(path.read_text()),
                        json.loads((SHARED_SAMPLES / path.name).read_text()),
                    )

    def test_fhir_samples_as_they_are_make_the_same_visit_invoice_and_payment(self):
        for name in FHIR_ORDER:
            response = self._send(name)
            self.assertEqual(response.status_code, 202, response.text)
            self._run_queued()
        messages = self.env["integration.message"].search([("endpoint_id.token", "=", "demo-fhir")])
        self.assertEqual(set(messages.mapped("state")), {"done"}, messages.mapped("last_error"))
        charge = self.env["integration.charge"].search([("name", "=", "CHG-9001")])
        charge = charge.filtered(lambda c: c.backend_id.code == "demo-fhir")
        self.assertEqual(charge.state, "invoiced")
        payer_invoice = charge.invoice_line_ids.filtered(
            lambda line: line.integration_share == "payer"
        ).move_id
        self.assertEqual(payer_invoice.state, "posted")
        self.assertEqual(payer_invoice.partner_id.name, "Acme Health Insurance")
        self.assertEqual(payer_invoice.amount_total, 100.0)
        self.assertEqual(payer_invoice.amount_residual, 0.0)
        self.assertEqual(charge.patient_id.name, "Jane Doe")
        self.assertEqual(charge.appointment_id.state, "completed")
