import json

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase, signed_headers

from .test_demo import DEMO_SECRET, SAMPLES

# A sensible order: who, then what happened, then the money.
BILLING_SAMPLES = (
    "patient.upserted",
    "payer.upserted",
    "appointment.completed",
    "appointment.cancelled",
    "charge.captured",
    "payment.posted",
    "refund.issued",
    "claim.status_changed",
)


@tagged("post_install", "-at_install")
class TestDemoBilling(IntegrationHubCase, HttpCase):
    def _send_sample(self, event_type):
        body = (SAMPLES / f"{event_type}.json").read_bytes()
        response = self.url_open(
            "/integration/webhook/demo-billing",
            data=body,
            headers=signed_headers(body, secret=DEMO_SECRET),
        )
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["status"], "queued")
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        return message

    def _result(self, message):
        return self.env[message.result_model].browse(message.result_res_id)

    def test_billing_samples_as_they_are_run_from_charge_to_paid_invoice(self):
        messages = {event_type: self._send_sample(event_type) for event_type in BILLING_SAMPLES}
        for event_type, message in messages.items():
            with self.subTest(event_type=event_type):
                self.assertEqual(message.state, "done", message.last_error)
        charge = self._result(messages["charge.captured"])
        sample = json.loads((SAMPLES / "charge.captured.json").read_text())["data"]
        self.assertEqual((charge.name, charge.state), (sample["id"], "invoiced"))
        payer_invoice = charge.invoice_line_ids.filtered(
            lambda line: (
                line.integration_share == "payer" and line.move_id.move_type == "out_invoice"
            )
        ).move_id
        patient_invoice = charge.invoice_line_ids.filtered(
            lambda line: (
                line.integration_share == "patient" and line.move_id.move_type == "out_invoice"
            )
        ).move_id
        self.assertEqual(payer_invoice.state, "posted")
        self.assertEqual(payer_invoice.partner_id.name, "Acme Health Insurance")
        self.assertEqual(payer_invoice.amount_total, float(sample["payer_share"]))
        self.assertEqual(patient_invoice.partner_id.name, "Jane Doe")
        self.assertEqual(patient_invoice.amount_total, float(sample["patient_share"]))
        # payment.posted pays the payer's share; refund.issued credits the patient's.
        payment = self._result(messages["payment.posted"])
        self.assertEqual(payment.amount, 100.0)
        self.assertTrue(payment.is_reconciled)
        self.assertEqual(payer_invoice.amount_residual, 0.0)
        credit_note = self._result(messages["refund.issued"])
        self.assertEqual(credit_note.reversed_entry_id, patient_invoice)
        self.assertEqual(patient_invoice.amount_residual, 0.0)
        self.assertEqual(payer_invoice.integration_claim_status, "denied")
        self.assertEqual(self._result(messages["appointment.cancelled"]).state, "cancelled")
        self.assertEqual(self._result(messages["appointment.completed"]).charge_ids, charge)
