from odoo.tests import TransactionCase, tagged

from .common import FhirCase
from .samples import sample


@tagged("post_install", "-at_install")
class TestFhirHandlers(FhirCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_fhir()

    def setUp(self):
        super().setUp()
        self._process_fhir("Patient")
        self._process_fhir("Organization-payer")
        self.patient = self._bound("res.partner", "PAT-000123")
        self.payer = self._bound("res.partner", "PAY-ACME")

    def _cover(self):
        self._process_fhir("Coverage")

    def _charge_without_payer_share(self, charge_id="CHG-9001"):
        charge = sample("ChargeItem")
        charge["id"] = charge_id
        del charge["extension"]
        return charge

    def test_samples_make_the_same_patient_payer_visit_and_invoiced_charge(self):
        self.assertEqual(self.patient.name, "Jane Doe")
        self.assertEqual(self.patient.email, "jane.doe@example.org")
        self.assertEqual(self.payer.name, "Acme Health Insurance")
        self._process_fhir("Encounter")
        self._cover()
        appointment = self._bound("integration.appointment", "APT-5001")
        self.assertTrue(appointment)
        charge = self._result(self._process_fhir("ChargeItem"))
        self.assertEqual(charge.appointment_id, appointment)
        self.assertEqual((charge.patient_share, charge.payer_share), (20.0, 100.0))
        self.assertEqual(charge.state, "invoiced")

    def test_active_coverage_makes_its_payer_pay_charges_that_name_none(self):
        self._process_fhir("Coverage")
        self.assertEqual(self.patient.integration_default_payer_id, self.payer)
        charge = self._result(self._process_fhir(self._charge_without_payer_share()))
        self.assertEqual(charge.payer_id, self.payer)
        self.assertEqual((charge.patient_share, charge.payer_share), (0.0, 120.0))

    def test_without_coverage_a_charge_naming_no_payer_bills_the_patient(self):
        charge = self._result(self._process_fhir(self._charge_without_payer_share()))
        self.assertFalse(charge.payer_id)
        self.assertEqual(charge.patient_share, 120.0)

    def test_charge_with_payer_share_waits_for_the_coverage(self):
        message = self._process_fhir("ChargeItem", expect="retrying")
        self.assertIn("no active coverage", message.last_error)
        self._cover()
        message.invalidate_recordset()
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self._result(message).payer_id, self.payer)

    def test_json_charge_with_payer_share_and_no_payer_is_still_an_exception_at_once(self):
        event = self._fhir_event(sample("ChargeItem"))
        message = self._send(event, source_format="json")
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertIn("payer share but no payer", message.last_error)

    def test_cancelled_coverage_clears_the_default_payer(self):
        self._process_fhir("Coverage")
        coverage = sample("Coverage")
        coverage["status"] = "cancelled"
        self._process_fhir(coverage)
        self.assertFalse(self.patient.integration_default_payer_id)

    def test_charge_entered_in_error_before_invoicing_rejects_it(self):
        self.backend.charge_auto_approve = False
        self._cover()
        charge = self._result(self._process_fhir("ChargeItem"))
        self.assertEqual(charge.state, "to_review")
        cancel = sample("ChargeItem")
        cancel["status"] = "entered-in-error"
        self._process_fhir(cancel)
        self.assertEqual(charge.state, "rejected")
        self._process_fhir(cancel)  # again: nothing more happens
        self.assertEqual(charge.state, "rejected")

    def test_charge_entered_in_error_after_invoicing_opens_an_exception(self):
        self._cover()
        charge = self._result(self._process_fhir("ChargeItem"))
        self.assertEqual(charge.state, "invoiced")
        cancel = sample("ChargeItem")
        cancel["status"] = "entered-in-error"
        message = self._process_fhir(cancel, expect="exception")
        self.assertEqual(charge.state, "invoiced")
        self.assertIn("credit note", message.exception_ids.explanation)
