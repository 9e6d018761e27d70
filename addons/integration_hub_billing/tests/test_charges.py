from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import BillingCase, charge_event, patient_event


@tagged("post_install", "-at_install")
class TestCharges(BillingCase, AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()

    def setUp(self):
        super().setUp()
        self._setup_parties()

    def test_charge_becomes_posted_payer_and_patient_invoices(self):
        message = self._process(charge_event())
        charge = self._result(message)
        self.assertEqual(charge._name, "integration.charge")
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(charge.product_id, self.product_visit)
        payer_invoice = self._invoices_of(charge, "payer")
        patient_invoice = self._invoices_of(charge, "patient")
        self.assertEqual(payer_invoice.partner_id, self._bound("res.partner", "PAY-1"))
        self.assertTrue(payer_invoice.partner_id.is_company)
        self.assertEqual(patient_invoice.partner_id, self._bound("res.partner", "PAT-1"))
        for invoice, amount in ((payer_invoice, 100.0), (patient_invoice, 20.0)):
            self.assertEqual(invoice.move_type, "out_invoice")
            self.assertEqual(invoice.state, "posted")
            self.assertEqual(invoice.company_id, self.backend.company_id)
            self.assertEqual(invoice.currency_id.name, "USD")
            self.assertEqual(invoice.amount_untaxed, amount)
            self.assertEqual(invoice.amount_tax, 0.0)
            self.assertEqual(invoice.amount_residual, amount)
            self.assertEqual(invoice.integration_encounter_ref, "APT-1")
            self.assertEqual(invoice.integration_backend_id, self.backend)
            self.assertIn(message, invoice.integration_message_ids)
        self.assertEqual(payer_invoice.invoice_line_ids.product_id, self.product_visit)

    def test_product_tax_applies_to_the_invoice(self):
        message = self._process(
            charge_event(
                "CHG-T",
                service_code="99214",
                quantity="2",
                unit_price="200.00",
                patient_share="0",
                payer_share="400.00",
            )
        )
        charge = self._result(message)
        invoice = self._invoices_of(charge, "payer")
        self.assertFalse(self._invoices_of(charge, "patient"), "a zero share is not invoiced")
        line = invoice.invoice_line_ids
        self.assertEqual((line.quantity, line.price_unit), (2.0, 200.0))
        self.assertEqual(line.tax_ids, self.tax_10)
        self.assertEqual(
            (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total),
            (400.0, 40.0, 440.0),
        )

    def test_duplicate_and_replayed_charge_create_nothing_twice(self):
        first = self._process(charge_event())
        self._process(charge_event())
        first.action_replay()
        self._perform_job(first)
        self.assertEqual(first.state, "done")
        charges = self.env["integration.charge"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(charges), 1)
        self.assertEqual(len(charges.invoice_line_ids), 2)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("integration_backend_id", "=", self.backend.id)]
            ),
            2,
        )

    def test_same_charge_id_with_other_amounts_is_an_amount_mismatch(self):
        self._process(charge_event())
        message = self._process(
            charge_event(unit_price="150.00", payer_share="130.00"), expect="exception"
        )
        self.assertEqual(message.exception_ids.kind, "amount_mismatch")
        self.assertIn("already captured", message.exception_ids.explanation)
        # The exception links the charge concerned, for finance to open it.
        charge = self._bound("integration.charge", "CHG-1")
        exception = message.exception_ids
        self.assertEqual((exception.res_model, exception.res_id), (charge._name, charge.id))
        self.assertEqual(exception.record_name, charge.display_name)
        self.assertEqual(exception.action_open_record()["res_id"], charge.id)

    def test_charges_group_per_partner_and_encounter_on_draft_invoices(self):
        self.backend.invoice_auto_post = False
        one = self._result(self._process(charge_event("CHG-A")))
        two = self._result(
            self._process(
                charge_event("CHG-B", service_code="99214", patient_share="5", payer_share="115")
            )
        )
        other = self._result(self._process(charge_event("CHG-C", encounter_id="APT-2")))
        payer_invoice = self._invoices_of(one, "payer")
        self.assertEqual(payer_invoice.state, "draft")
        self.assertEqual(self._invoices_of(two, "payer"), payer_invoice)
        self.assertEqual(self._invoices_of(one, "patient"), self._invoices_of(two, "patient"))
        self.assertNotEqual(self._invoices_of(one, "patient"), payer_invoice)
        self.assertEqual(len(payer_invoice.invoice_line_ids), 2)
        self.assertEqual(payer_invoice.amount_untaxed, 215.0)
        self.assertEqual(payer_invoice.amount_tax, 11.5)
        self.assertNotEqual(self._invoices_of(other, "payer"), payer_invoice)
        self.assertEqual(self._invoices_of(other, "payer").integration_encounter_ref, "APT-2")

    def test_charge_over_the_auto_approval_limit_waits_for_review(self):
        self.backend.charge_auto_approve_max = 100.0
        charge = self._result(self._process(charge_event()))
        self.assertEqual(charge.state, "to_review")
        self.assertFalse(charge.invoice_line_ids)
        small = self._result(
            self._process(charge_event("CHG-S", unit_price="50.00", payer_share="30.00"))
        )
        self.assertEqual(small.state, "invoiced")
        charge.action_approve()
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(self._invoices_of(charge, "payer").amount_total, 100.0)
        with self.assertRaisesRegex(Exception, "Only charges to review"):
            charge.action_approve()

    def test_rejected_charge_is_never_invoiced(self):
        self.backend.charge_auto_approve = False
        charge = self._result(self._process(charge_event()))
        charge.action_reject()
        self.assertEqual(charge.state, "rejected")
        self.env["integration.charge"]._cron_invoice_approved_charges()
        self.assertFalse(charge.invoice_line_ids)

    def test_batch_backend_invoices_on_the_cron(self):
        self.backend.write({"latency_tier": "batch", "invoice_auto_post": False})
        charge = self._result(self._process(charge_event()))
        self.assertEqual(charge.state, "approved")
        self.assertFalse(charge.invoice_line_ids)
        # The scheduled action itself, as ir.cron runs it.
        self.env.ref(
            "integration_hub_billing.ir_cron_integration_charge_invoice"
        ).method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(charge.state, "invoiced")
        self.assertEqual(self._invoices_of(charge, "payer").state, "draft")

    def test_shares_not_adding_up_open_an_amount_mismatch(self):
        message = self._process(charge_event(payer_share="90.00"), expect="exception")
        exception = message.exception_ids
        self.assertEqual(exception.kind, "amount_mismatch")
        self.assertIn("do not add up", exception.explanation)
        self.assertFalse(self.env["integration.charge"].search([("name", "=", "CHG-1")]))

    def test_missing_share_is_the_rest_of_the_total(self):
        charge = self._result(self._process(charge_event(patient_share=None, payer_share="90")))
        self.assertEqual((charge.patient_share, charge.payer_share), (30.0, 90.0))

    def test_non_number_amount_is_a_clear_business_error(self):
        # The webhook's schema refuses it (see test_tour); a stored message that carries
        # one still fails clearly instead of being read as a float.
        message = self._process(charge_event(unit_price="12,00"), expect="exception")
        self.assertEqual(message.exception_ids.kind, "validation")
        self.assertIn(
            "unit_price: '12,00' is not a decimal number", message.exception_ids.explanation
        )

    def test_unknown_code_then_map_and_retry_creates_the_invoice(self):
        self._track_changes()
        message = self._process(charge_event(service_code="99999"), expect="exception")
        exception = message.exception_ids
        self.assertEqual(
            (exception.kind, exception.code_kind_id.code, exception.external_code),
            ("unmapped_code", "service", "99999"),
        )
        self.assertFalse(self.env["integration.charge"].search([("name", "=", "CHG-1")]))
        action = exception.action_map_code()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"res_id": self.product_taxed.id})
        )
        wizard.action_map_and_retry()
        mapping = self.env["integration.code.map"].search(
            [("backend_id", "=", self.backend.id), ("external_code", "=", "99999")]
        )
        self.assertEqual(mapping.record_ref, self.product_taxed)
        self.assertEqual(message.state, "queued")
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(exception.state, "resolved")
        charge = self._result(message)
        self.assertEqual(self._invoices_of(charge, "payer").amount_total, 110.0)
        chatter = " ".join(exception.message_ids.mapped("body"))
        self.assertIn("mapped Service code '99999'", chatter)
        self.assertIn("Resolved", chatter)

    def test_unknown_code_is_mapped_per_backend(self):
        other_backend, other_endpoint = self._create_billing_backend(
            self.env.company, name="Other billing"
        )
        self._process(patient_event(), other_endpoint)
        self.env["integration.code.map"].create(
            {
                "backend_id": other_backend.id,
                "kind": "service",
                "external_code": "77777",
                "record_ref": f"product.product,{self.product_visit.id}",
            }
        )
        message = self._process(
            charge_event(service_code="77777", payer_id=None, payer_share=None, patient_share=None),
            expect="exception",
        )
        self.assertEqual(message.exception_ids.external_code, "77777")

    def test_unknown_payer_waits_then_opens_an_exception(self):
        message = self._send(charge_event(payer_id="PAY-404"))
        self._perform_job(message)
        self.assertEqual(message.state, "retrying")
        self._perform_job(message)
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids.kind, "unknown_payer")
        self.assertIn("PAY-404", message.exception_ids.explanation)
        # Waiting for a record and then a person, never a technical failure.
        self.assertEqual(
            message.attempt_ids.sorted("number").mapped("outcome"),
            ["waiting", "waiting", "exception"],
        )

    def test_unknown_patient_is_an_unknown_record_not_a_technical_failure(self):
        message = self._send(charge_event(charge_id="CHG-NOPAT", patient_id="PAT-404"))
        for _attempt in range(3):
            self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids.kind, "unknown_record")
        self.assertNotIn("failed", message.attempt_ids.mapped("outcome"))
        self.assertTrue(message.last_error.startswith("Unknown patient 'PAT-404'"))
        self.assertNotIn("Error(", message.last_error)

    def test_billing_settings_show_for_billing_backends_only(self):
        self.assertTrue(self.backend.is_billing_backend)
        supplier = self._create_backend(name="Supplier", system_type="supplier")
        self.assertFalse(supplier.is_billing_backend)
        # A backend of another type that exchanges billing events shows them too.
        self._create_endpoint(
            supplier, secret=None, event_type_ids=[(6, 0, self.billing_types.ids)]
        )
        supplier.invalidate_recordset(["business_domain_codes", "is_billing_backend"])
        self.assertTrue(supplier.is_billing_backend)
        arch = self.env["integration.backend"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="billing" invisible="not is_billing_backend"', arch)
