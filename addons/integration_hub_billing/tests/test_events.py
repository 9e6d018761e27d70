from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.queue_job.exception import RetryableJobError

from .common import (
    BillingCase,
    appointment_event,
    charge_event,
    event,
    patient_event,
    payer_event,
    payment_event,
)


@tagged("post_install", "-at_install")
class TestEvents(BillingCase, AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()

    def test_patient_is_a_person_with_billing_fields_only(self):
        message = self._process(
            patient_event(
                street="4 Elm Street",
                city="Springfield",
                zip="62704",
                country_code="US",
                email="jane@example.org",
                diagnosis="J45",
                comment="<b>clinical note</b>",
            )
        )
        patient = self._result(message)
        self.assertEqual(patient, self._bound("res.partner", "PAT-1"))
        self.assertFalse(patient.is_company)
        self.assertEqual(
            (patient.name, patient.street, patient.city, patient.zip, patient.country_id.code),
            ("Jane Doe", "4 Elm Street", "Springfield", "62704", "US"),
        )
        self.assertEqual(patient.ref, "PAT-1")
        self.assertFalse(patient.comment)
        self.assertEqual(patient.company_id, self.backend.company_id)
        self._process(patient_event(name="Jane Roe"))
        self.assertEqual(self._bound("res.partner", "PAT-1"), patient)
        self.assertEqual(patient.name, "Jane Roe")

    def test_payer_is_a_company_with_its_payer_code(self):
        payer = self._result(self._process(payer_event(payer_code="ACME01")))
        self.assertTrue(payer.is_company)
        self.assertEqual(payer.ref, "ACME01")

    def test_appointment_life_cycle_and_stale_updates(self):
        self._process(patient_event())
        scheduled = self._process(appointment_event("scheduled", updated_at="2026-11-20T08:00:00Z"))
        appointment = self._result(scheduled)
        self.assertEqual(appointment.state, "scheduled")
        self._process(
            appointment_event(
                "rescheduled", updated_at="2026-11-20T09:00:00Z", start="2026-11-21T09:00:00Z"
            )
        )
        self.assertEqual(appointment.state, "rescheduled")
        self.assertEqual(str(appointment.start_time), "2026-11-21 09:00:00")
        self._process(appointment_event("completed", updated_at="2026-11-21T08:21:00Z"))
        self.assertEqual(appointment.state, "completed")
        # An older cancellation arriving late changes nothing.
        self._process(appointment_event("cancelled", updated_at="2026-11-20T10:00:00Z"))
        self.assertEqual(appointment.state, "completed")
        self.assertEqual(
            self.env["integration.appointment"].search_count(
                [("backend_id", "=", self.backend.id)]
            ),
            1,
        )

    def test_cancellation_after_completion_with_charges_is_a_conflict(self):
        self._setup_parties()
        appointment = self._result(self._process(appointment_event("completed")))
        charge = self._result(self._process(charge_event()))
        self.assertEqual(charge.appointment_id, appointment)
        message = self._process(
            appointment_event("cancelled", updated_at="2026-11-21T12:00:00Z"), expect="exception"
        )
        self.assertEqual(message.exception_ids.kind, "conflict")
        self.assertEqual(appointment.state, "completed")
        self.assertEqual(message.exception_ids.record_name, appointment.display_name)

    def test_events_of_one_encounter_share_its_ordering_key(self):
        self._setup_parties()
        for message, key in (
            (self._send(appointment_event("completed")), "encounter:APT-1"),
            (self._send(charge_event("CHG-2")), "encounter:APT-1"),
            (
                self._send(event("claim.status_changed", id="CLM-1", encounter_id="APT-1")),
                "encounter:APT-1",
            ),
            (self._send(charge_event("CHG-3", encounter_id=None)), False),
            (self._send(patient_event("PAT-2")), "patient:PAT-2"),
        ):
            with self.subTest(event_type=message.event_type):
                self.assertEqual(message.ordering_key, key)

    def test_charge_waits_for_the_earlier_appointment_of_its_encounter_then_links_to_it(self):
        self._setup_parties()
        appointment_message = self._send(appointment_event("completed"))
        charge_message = self._send(charge_event())
        with self.assertRaisesRegex(RetryableJobError, "earlier message .* of encounter:APT-1"):
            charge_message._job_process()
        self.assertFalse(charge_message.attempt_ids, "waiting for its turn is no attempt")
        self._perform_job(appointment_message)
        self._perform_job(charge_message)
        appointment = self._result(appointment_message)
        self.assertEqual(self._result(charge_message).appointment_id, appointment)
        self.assertEqual(appointment.charge_count, 1)

    def test_appointment_arriving_after_its_charges_links_them(self):
        self._setup_parties()
        charge = self._result(self._process(charge_event("CHG-1")))
        other_encounter = self._result(self._process(charge_event("CHG-2", encounter_id="APT-2")))
        self.assertFalse(charge.appointment_id)
        appointment = self._result(self._process(appointment_event("completed")))
        self.assertEqual(charge.appointment_id, appointment)
        self.assertEqual(appointment.charge_ids, charge)
        self.assertFalse(other_encounter.appointment_id)
        self.assertEqual(charge.state, "invoiced", "linking changes nothing else")

    def test_cancellation_after_completion_without_charges_applies(self):
        self._process(patient_event())
        appointment = self._result(self._process(appointment_event("completed")))
        self._process(appointment_event("no_show", updated_at="2026-11-21T12:00:00Z"))
        self.assertEqual(appointment.state, "no_show")

    def test_appointment_of_an_unknown_patient_waits(self):
        message = self._send(appointment_event("scheduled", patient_id="PAT-LATE"))
        self._perform_job(message)
        self.assertEqual(message.state, "retrying")
        self._process(patient_event("PAT-LATE"))
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(self._result(message).patient_id, self._bound("res.partner", "PAT-LATE"))

    def test_claim_status_shows_on_the_invoice_once(self):
        self._track_changes()
        self._setup_parties()
        charge = self._result(self._process(charge_event()))
        invoice = self._invoices_of(charge, "payer")
        claim = event(
            "claim.status_changed",
            id="CLM-1",
            encounter_id="APT-1",
            payer_id="PAY-1",
            status="denied",
            reason_code="CO-16",
            reason="Claim lacks information",
            updated_at="2026-11-26T12:00:00Z",
        )
        message = self._process(claim)
        self.assertEqual(self._result(message), invoice)
        self.assertEqual(
            (invoice.integration_claim_ref, invoice.integration_claim_status),
            ("CLM-1", "denied"),
        )
        self.assertEqual(invoice.integration_claim_reason, "CO-16 Claim lacks information")
        posts = invoice.message_ids.filtered(
            lambda m: "Claim CLM-1 is now denied (CO-16 Claim lacks information)." in (m.body or "")
        )
        self.assertEqual(len(posts), 1)
        message.action_replay()
        self._perform_job(message)
        self._process(
            dict(
                claim, data=dict(claim["data"], status="pending", updated_at="2026-11-25T00:00:00Z")
            )
        )
        self.assertEqual(invoice.integration_claim_status, "denied", "a stale status is skipped")
        self.assertEqual(
            len(invoice.message_ids.filtered(lambda m: "Claim CLM-1 is now" in (m.body or ""))), 1
        )

    def test_companies_are_isolated(self):
        other = self.setup_other_company(name="Clinic B")["company"]
        other_backend, other_endpoint = self._create_billing_backend(other, name="Billing B")
        self._setup_parties()
        self._setup_parties(other_endpoint)
        self.assertNotEqual(
            self._bound("res.partner", "PAT-1"), self._bound("res.partner", "PAT-1", other_backend)
        )
        self.assertEqual(self._bound("res.partner", "PAT-1", other_backend).company_id, other)
        mine = self._result(self._process(charge_event()))
        theirs = self._result(self._process(charge_event(), other_endpoint))
        self.assertNotEqual(mine, theirs)
        self.assertEqual(self._invoices_of(theirs, "payer").company_id, other)
        self.assertEqual(self._invoices_of(mine, "payer").company_id, self.backend.company_id)
        self._result(self._process(payment_event(), other_endpoint))
        self.env["integration.code.map"].create(
            {
                "backend_id": other_backend.id,
                "kind": "service",
                "external_code": "55555",
                "record_ref": f"product.product,{self.product_visit.id}",
            }
        )
        wrong = self._process(
            charge_event("CHG-X", service_code="55555"), other_endpoint, expect="exception"
        )
        self.assertIn("a record of another company", wrong.exception_ids.explanation)
        self.assertEqual(self._invoices_of(theirs, "payer").amount_residual, 0.0)
        self.assertEqual(self._invoices_of(mine, "payer").amount_residual, 100.0)
        accountant = new_test_user(
            self.env,
            login="finance_a",
            groups="account.group_account_invoice,integration_hub.integration_hub_group_user",
            company_id=self.backend.company_id.id,
            company_ids=[Command.set(self.backend.company_id.ids)],
        )
        charges = self.env(user=accountant, su=False)["integration.charge"]
        self.assertEqual(charges.search([("name", "=", "CHG-1")]), mine)
        with self.assertRaises(AccessError):
            charges.browse(theirs.id).read(["name"])
        self.assertFalse(
            self.env(user=accountant, su=False)["integration.reconciliation.report"].search(
                [("company_id", "=", other.id)]
            )
        )
