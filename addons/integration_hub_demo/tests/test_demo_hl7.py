from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase, signed_headers
from odoo.addons.integration_hub_hl7 import hl7v2

from .test_demo import DEMO_SECRET, SAMPLES, SHARED_SAMPLES

HL7_DIR = SAMPLES.parent / "hl7"

HL7_SAMPLES = ("ADT_A04.hl7", "SIU_S12.hl7", "SIU_S14_completed.hl7", "DFT_P03.hl7")


@tagged("post_install", "-at_install")
class TestDemoHl7(IntegrationHubCase, HttpCase):
    def _send(self, name):
        raw = (HL7_DIR / name).read_bytes()
        headers = dict(signed_headers(raw, secret=DEMO_SECRET))
        headers["Content-Type"] = "x-application/hl7-v2+er7"
        before = self.env["integration.message"].search([])
        response = self.url_open("/integration/hl7/demo-hl7", data=raw, headers=headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(hl7v2.parse_ack(response.content)[0], "AA")
        messages = self.env["integration.message"].search([]) - before
        for message in messages.sorted("id"):
            self._perform_job(message)
            self.assertEqual(message.state, "done", message.last_error)
        return messages

    def test_hl7_samples_are_the_shared_contract_byte_for_byte(self):
        shared = SHARED_SAMPLES.parent / "hl7"
        names = sorted(path.name for path in HL7_DIR.glob("*.hl7"))
        self.assertEqual(len(names), 5)
        if shared.is_dir():  # beside the repository in development and CI
            self.assertEqual(names, sorted(path.name for path in shared.glob("*.hl7")))
            for name in names:
                self.assertEqual((HL7_DIR / name).read_bytes(), (shared / name).read_bytes())

    def test_hl7_samples_as_they_are_give_the_completed_appointment_its_charge_and_invoices(self):
        for name in HL7_SAMPLES:
            with self.subTest(sample=name):
                self._send(name)
        backend = self.env.ref("integration_hub_demo.integration_backend_hl7_demo")

        def bound(model, external_id):
            return self.env["integration.binding"]._to_internal(backend, model, external_id)

        patient = bound("res.partner", "PAT-000123")
        self.assertEqual(patient.name, "Jane Doe")
        appointment = bound("integration.appointment", "APT-5001")
        self.assertEqual(appointment.state, "completed")
        charge = bound("integration.charge", "CHG-9001")
        self.assertEqual((charge.appointment_id, charge.state), (appointment, "invoiced"))
        invoices = charge.invoice_ids
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertEqual(
            sorted((m.partner_id.name, m.amount_total) for m in invoices),
            [("Acme Health Insurance", 100.0), ("Jane Doe", 20.0)],
        )
