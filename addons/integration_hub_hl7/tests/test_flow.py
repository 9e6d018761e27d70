from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.integration_hub_billing.tests.common import BillingCase

from .. import hl7v2
from .common import HL7CaseMixin, sample


@tagged("post_install", "-at_install")
class TestHl7Flow(HL7CaseMixin, BillingCase, AccountTestInvoicingCommon):
    """HL7 messages through the intake, then the billing handlers, as the job runner runs them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hl7()

    def _receive(self, name, raw=None):
        raw = raw or sample(name)
        endpoints = self.env["integration.endpoint"]
        before = self._messages()
        endpoints._hl7_intake(endpoints._webhook_profile(self.endpoint.id), hl7v2.parse(raw), raw)
        return self._messages() - before

    def _run(self, messages, expect="done"):
        for message in messages:
            self._perform_job(message)
            if expect:
                self.assertEqual(message.state, expect, message.last_error)
        return messages

    def test_samples_in_order_give_patient_completed_appointment_charge_and_invoices(self):
        for name in ("ADT_A04.hl7", "SIU_S12.hl7", "SIU_S14_completed.hl7", "DFT_P03.hl7"):
            with self.subTest(sample=name):
                self._run(self._receive(name))
        patient = self._bound("res.partner", "PAT-000123")
        self.assertEqual(
            (patient.name, patient.email, patient.phone, patient.city),
            ("Jane Doe", "jane.doe@example.org", "+1 555 0142", "Springfield"),
        )
        self.assertEqual(self._bound("res.partner", "PAY-ACME").name, "Acme Health Insurance")
        appointment = self._bound("integration.appointment", "APT-5001")
        self.assertEqual((appointment.state, appointment.patient_id), ("completed", patient))
        charge = self._bound("integration.charge", "CHG-9001")
        self.assertEqual(charge.appointment_id, appointment)
        self.assertEqual(
            (charge.amount_total, charge.patient_share, charge.payer_share), (120.0, 20.0, 100.0)
        )
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(sorted(charge.invoice_ids.mapped("amount_untaxed")), [20.0, 100.0])
        self.assertEqual(set(charge.invoice_ids.mapped("state")), {"posted"})

    def test_charge_before_its_patient_waits_then_is_invoiced_once_adt_arrives(self):
        payer, charge = self._receive("DFT_P03.hl7")
        self._run(payer)
        self._perform_job(charge)
        self.assertEqual(charge.state, "retrying")
        self._run(self._receive("ADT_A04.hl7"))
        self._run(charge)
        self.assertEqual(self._bound("integration.charge", "CHG-9001").state, "invoiced")

    def test_scheduling_arriving_after_completion_does_not_undo_it(self):
        self._run(self._receive("ADT_A04.hl7"))
        self._run(self._receive("SIU_S14_completed.hl7"))
        self._run(self._receive("SIU_S12.hl7"))
        appointment = self._bound("integration.appointment", "APT-5001")
        self.assertEqual(appointment.state, "completed")

    def test_cancellation_of_another_appointment_is_recorded_with_its_reason(self):
        self._run(self._receive("ADT_A04.hl7"))
        self._run(self._receive("SIU_S15_cancelled.hl7"))
        appointment = self._bound("integration.appointment", "APT-5002")
        self.assertEqual((appointment.state, appointment.reason), ("cancelled", "Patient request"))

    def test_a40_moves_the_duplicate_patient_records_to_the_survivor_and_archives_it(self):
        self._run(self._receive("ADT_A04.hl7"))
        jane = self._bound("res.partner", "PAT-000123")

        def as_duplicate(raw):
            return raw.replace(b"PAT-000123", b"PAT-999").replace(b"|P|2.5.1", b"-dup|P|2.5.1")

        self._run(self._receive(None, as_duplicate(sample("ADT_A04.hl7"))))
        self._run(self._receive(None, as_duplicate(sample("SIU_S14_completed.hl7"))))
        self._run(self._receive(None, as_duplicate(sample("DFT_P03.hl7"))))
        duplicate = self._bound("res.partner", "PAT-999")
        charge = self._bound("integration.charge", "CHG-9001")
        self.assertEqual(charge.patient_id, duplicate)
        patient_invoice = charge.invoice_ids.filtered(lambda m: m.partner_id == duplicate)
        self.assertEqual(patient_invoice.state, "posted")
        a40 = (
            b"MSH|^~\\&|SCHED|CLINIC-N|ODOO|HUB|20261121100000||ADT^A40^ADT_A39|ADT-M-1|P|2.5.1\r"
            b"EVN|A40|20261121100000\r"
            b"PID|1||PAT-000123^^^CLINIC^MR||Doe^Jane\r"
            b"MRG|PAT-999^^^CLINIC^MR\r"
        )
        (merge,) = self._run(self._receive(None, a40))
        self.assertEqual(merge.event_type, "patient.merged")
        self.assertFalse(duplicate.active)
        self.assertEqual(self._bound("res.partner", "PAT-999"), jane)
        self.assertEqual(self._bound("integration.appointment", "APT-5001").patient_id, jane)
        self.assertEqual(charge.patient_id, jane)
        self.assertEqual((patient_invoice.partner_id, patient_invoice.state), (jane, "posted"))
        # A later message naming the merged id reaches the survivor.
        later = as_duplicate(sample("DFT_P03.hl7")).replace(b"CHG-9001", b"CHG-9002")
        later = later.replace(b"DFT-9001-1-dup", b"DFT-9002-1-dup")
        self._run(self._receive(None, later))
        self.assertEqual(self._bound("integration.charge", "CHG-9002").patient_id, jane)
