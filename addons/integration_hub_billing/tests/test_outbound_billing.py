from odoo import Command
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.integration_hub.tests.common import RealRequestsMixin

from .common import BillingCase, charge_event, payment_event


@tagged("post_install", "-at_install")
class TestOutboundBilling(RealRequestsMixin, BillingCase, AccountTestInvoicingCommon):
    """invoice.posted and payment.registered delivered back to the billing system."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()
        cls.receiver = cls._serve_outbound(cls.backend, "/odoo")
        for code, domain in (
            ("invoice.posted", f"[('integration_backend_id', '=', {cls.backend.id})]"),
            ("payment.registered", "[('partner_type', '=', 'customer')]"),
        ):
            cls.env["integration.subscription"].create(
                {
                    "backend_id": cls.backend.id,
                    "event_type_id": cls.env["integration.event.type"]
                    .search([("code", "=", code), ("direction", "=", "out")])
                    .id,
                    "filter_domain": domain,
                }
            )

    def setUp(self):
        super().setUp()
        self.receiver.requests.clear()
        self._setup_parties()

    def _outbound_type(self, code):
        return self.env["integration.event.type"].search(
            [("code", "=", code), ("direction", "=", "out")]
        )

    def _outbound(self, code):
        return self.env["integration.message"].search(
            [("direction", "=", "out"), ("event_type", "=", code)], order="id"
        )

    def _deliver_all(self, messages):
        for message in messages:
            self._perform_job(message)
            self.assertEqual(message.state, "done", message.last_error)
        return [
            r
            for r in self.receiver.requests
            if r.headers["webhook-id"] in messages.mapped("sender_message_id")
        ]

    def test_posted_invoices_are_sent_with_their_charges_and_the_partners_ids(self):
        charge = self._result(self._process(charge_event()))
        messages = self._outbound("invoice.posted")
        self.assertEqual(len(messages), 2, "a payer and a patient invoice")
        self.assertEqual(
            set(messages.mapped("result_res_id")), set(charge.invoice_line_ids.move_id.ids)
        )
        sent = {r.json["data"]["partner"]["external_id"]: r for r in self._deliver_all(messages)}
        self.assertTrue(all(r.verified for r in sent.values()))
        payer = sent["PAY-1"].json["data"]
        self.assertEqual(payer["move_type"], "out_invoice")
        self.assertEqual(payer["amount_total"], "100.00")
        self.assertEqual(payer["encounter_id"], "APT-1")
        self.assertEqual(
            [(line["charge_id"], line["share"], line["subtotal"]) for line in payer["lines"]],
            [("CHG-1", "payer", "100.00")],
        )
        self.assertEqual(sent["PAT-1"].json["data"]["amount_total"], "20.00")

    def test_a_registered_payment_is_sent_with_the_invoices_it_paid_as_committed(self):
        charge = self._result(self._process(charge_event()))
        payer_invoice = self._invoices_of(charge, "payer")
        payment = self._result(self._process(payment_event()))
        (message,) = self._outbound("payment.registered")
        self.assertEqual(message.result_res_id, payment.id)
        (sent,) = self._deliver_all(message)
        data = sent.json["data"]
        self.assertEqual((data["external_id"], data["amount"]), ("PMT-1", "100.00"))
        self.assertEqual(data["partner"]["external_id"], "PAY-1")
        self.assertEqual(
            data["invoices"],
            [
                {
                    "id": str(payer_invoice.id),
                    "number": payer_invoice.name,
                    "amount_residual": "0.00",
                    "payment_state": payer_invoice.payment_state,
                }
            ],
        )

    def test_vendor_bills_and_other_backends_invoices_are_not_sent(self):
        # A subscription whose filter takes vendor bills: only invoice.posted's own rule
        # (customer invoices and credit notes) keeps the bill from being sent.
        self.env["integration.subscription"].create(
            {
                "backend_id": self.backend.id,
                "event_type_id": self._outbound_type("invoice.posted").id,
                "filter_domain": "[('move_type', '=', 'in_invoice')]",
            }
        )
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": "2026-11-21",
                "invoice_line_ids": [Command.create({"name": "Gloves", "price_unit": 10.0})],
            }
        )
        invoice = self.init_invoice("out_invoice", amounts=[50.0])
        (bill | invoice).action_post()
        self._end_transaction()
        self.assertFalse(self._outbound("invoice.posted"))
