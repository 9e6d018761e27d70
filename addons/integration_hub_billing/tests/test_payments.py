from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import BillingCase, charge_event, event, payment_event


@tagged("post_install", "-at_install")
class TestPayments(BillingCase, AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()

    def setUp(self):
        super().setUp()
        self._setup_parties()
        self.charge = self._result(self._process(charge_event()))
        self.payer_invoice = self._invoices_of(self.charge, "payer")
        self.patient_invoice = self._invoices_of(self.charge, "patient")

    def _refund(self, refund_id="RFD-1", amount="20.00", **data):
        values = {
            "id": refund_id,
            "charge_id": "CHG-1",
            "patient_id": "PAT-1",
            "amount": amount,
            "date": "2026-11-28",
        }
        values.update(data)
        return event("refund.issued", **values)

    def test_payment_registers_and_reconciles_the_payer_invoice(self):
        message = self._process(payment_event())
        payment = self._result(message)
        self.assertEqual(payment._name, "account.payment")
        self.assertEqual(payment.amount, 100.0)
        self.assertEqual(payment.partner_id, self.payer_invoice.partner_id)
        self.assertEqual(payment.integration_backend_id, self.backend)
        self.assertEqual(payment.journal_id.type, "bank")
        self.assertIn("EFT-1", payment.memo)
        self.assertEqual(self.payer_invoice.amount_residual, 0.0)
        self.assertIn(self.payer_invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(payment.is_reconciled)
        self.assertEqual(self.patient_invoice.amount_residual, 20.0, "the patient still owes")

    def test_partial_payment_leaves_the_rest_due(self):
        self._process(payment_event(amount="60.00"))
        self.assertEqual(self.payer_invoice.amount_residual, 40.0)
        self.assertEqual(self.payer_invoice.payment_state, "partial")
        self._process(payment_event("PMT-2", amount="40.00"))
        self.assertEqual(self.payer_invoice.amount_residual, 0.0)

    def test_over_payment_leaves_an_outstanding_credit(self):
        payment = self._result(
            self._process(
                payment_event(
                    amount="130.00", allocations=[{"charge_id": "CHG-1", "amount": "100.00"}]
                )
            )
        )
        self.assertEqual(self.payer_invoice.amount_residual, 0.0)
        self.assertEqual(payment.amount, 130.0)
        self.assertFalse(payment.is_reconciled)
        credit = payment.move_id.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        self.assertEqual(credit.amount_residual, -30.0)
        report = self.env["integration.reconciliation.report"].search(
            [("category", "=", "payment_unmatched"), ("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(
            (report.res_model, report.res_id, report.amount), ("account.payment", payment.id, 130.0)
        )

    def test_duplicate_and_replayed_payment_register_once(self):
        first = self._process(payment_event(amount="50.00"))
        self._process(payment_event(amount="50.00"))
        first.action_replay()
        self._perform_job(first)
        payments = self.env["account.payment"].search(
            [("integration_backend_id", "=", self.backend.id)]
        )
        self.assertEqual(len(payments), 1)
        self.assertEqual(self.payer_invoice.amount_residual, 50.0)

    def test_payment_before_its_invoice_waits_then_reconciles(self):
        message = self._send(
            payment_event(
                "PMT-EARLY", amount="80.00", allocations=[{"charge_id": "CHG-2", "amount": "80.00"}]
            )
        )
        self._perform_job(message)
        self.assertEqual(message.state, "retrying")
        self.assertIn("waits", message.last_error)
        self.assertFalse(
            self.env["account.payment"].search([("integration_backend_id", "=", self.backend.id)])
        )
        charge = self._result(
            self._process(
                charge_event("CHG-2", unit_price="100.00", patient_share="20", payer_share="80")
            )
        )
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(self._invoices_of(charge, "payer").amount_residual, 0.0)

    def test_payment_never_matched_becomes_an_exception_not_a_loss(self):
        self.backend.batch_size = 1  # the replayed message's own job, not a batch
        message = self._send(
            payment_event(
                "PMT-LOST",
                amount="75.00",
                allocations=[{"charge_id": "CHG-404", "amount": "75.00"}],
            )
        )
        for _attempt in range(3):
            self._perform_job(message)
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual(exception.kind, "unmatched_payment")
        self.assertIn("CHG-404", exception.explanation)
        report = self.env["integration.reconciliation.report"].search(
            [("res_model", "=", "integration.exception"), ("res_id", "=", exception.id)]
        )
        self.assertEqual((report.category, report.amount), ("payment_unmatched", 75.0))
        # The invoice arrives: the payment is retried by itself, nobody clicks Retry.
        self._process(
            charge_event("CHG-404", unit_price="75.00", patient_share="0", payer_share="75")
        )
        self.assertEqual(message.state, "queued")
        self.assertEqual(exception.state, "in_progress")
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(exception.state, "resolved")

    def test_payment_on_a_draft_invoice_waits_for_it_to_be_posted(self):
        self.backend.invoice_auto_post = False
        charge = self._result(self._process(charge_event("CHG-D")))
        message = self._send(
            payment_event("PMT-D", allocations=[{"charge_id": "CHG-D", "amount": "100.00"}])
        )
        self._perform_job(message)
        self.assertEqual(message.state, "retrying")
        self._invoices_of(charge, "payer").action_post()
        self._perform_job(message)
        self.assertEqual(message.state, "done")

    def test_allocations_above_the_amount_are_an_amount_mismatch(self):
        message = self._process(
            payment_event(amount="50.00", allocations=[{"charge_id": "CHG-1", "amount": "100.00"}]),
            expect="exception",
        )
        self.assertEqual(message.exception_ids.kind, "amount_mismatch")

    def test_patient_payment_by_encounter(self):
        self._process(
            payment_event(
                "PMT-P",
                amount="20.00",
                payer_id=None,
                patient_id="PAT-1",
                allocations=[{"encounter_id": "APT-1", "amount": "20.00"}],
            )
        )
        self.assertEqual(self.patient_invoice.amount_residual, 0.0)
        self.assertEqual(self.payer_invoice.amount_residual, 100.0)

    def test_refund_posts_a_credit_note_reconciled_with_the_invoice(self):
        message = self._process(self._refund())
        credit_note = self._result(message)
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.reversed_entry_id, self.patient_invoice)
        self.assertEqual(credit_note.partner_id, self.patient_invoice.partner_id)
        self.assertEqual(credit_note.amount_total, 20.0)
        self.assertEqual(credit_note.amount_residual, 0.0)
        self.assertEqual(self.patient_invoice.amount_residual, 0.0)
        self.assertIn(self.patient_invoice.payment_state, ("reversed", "paid"))
        # Replayed or sent twice: one credit note.
        message.action_replay()
        self._perform_job(message)
        self._process(self._refund())
        self.assertEqual(
            self.env["account.move"].search_count(
                [("move_type", "=", "out_refund"), ("integration_backend_id", "=", self.backend.id)]
            ),
            1,
        )

    def test_partial_refund_of_a_taxed_charge_credits_the_tax_too(self):
        charge = self._result(
            self._process(
                charge_event(
                    "CHG-TX",
                    service_code="99214",
                    unit_price="100.00",
                    patient_share="100",
                    payer_share="0",
                )
            )
        )
        invoice = self._invoices_of(charge, "patient")
        self.assertEqual(invoice.amount_total, 110.0)
        credit_note = self._result(
            self._process(self._refund("RFD-TX", amount="55.00", charge_id="CHG-TX"))
        )
        self.assertEqual((credit_note.amount_untaxed, credit_note.amount_tax), (50.0, 5.0))
        self.assertEqual(invoice.amount_residual, 55.0)

    def test_refund_above_the_invoiced_share_is_an_amount_mismatch(self):
        message = self._process(self._refund(amount="25.00"), expect="exception")
        self.assertEqual(message.exception_ids.kind, "amount_mismatch")
        self.assertEqual(self.patient_invoice.amount_residual, 20.0)
        # The exception opens the invoice the refund would exceed.
        self.assertEqual(
            (message.exception_ids.res_model, message.exception_ids.res_id),
            ("account.move", self.patient_invoice.id),
        )
