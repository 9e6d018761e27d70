from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import BillingCase, appointment_event, charge_event


@tagged("post_install", "-at_install")
class TestFinanceUi(BillingCase, AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()

    def setUp(self):
        super().setUp()
        self._setup_parties()

    def _report(self, **domain):
        return self.env["integration.reconciliation.report"].search(
            [("backend_id", "=", self.backend.id)] + [(k, "=", v) for k, v in domain.items()]
        )

    def test_report_shows_completed_appointments_without_charge_after_the_delay(self):
        now = fields.Datetime.now()
        old = (now - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        recent = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._process(appointment_event("completed", "APT-OLD", start=old, end=old))
        self._process(appointment_event("completed", "APT-NEW", start=recent, end=recent))
        rows = self._report(category="appointment_no_charge")
        self.assertEqual(rows.mapped("reference"), ["APT-OLD"])
        self.assertGreaterEqual(rows.age_hours, 29)
        self.assertEqual(rows.partner_id, self._bound("res.partner", "PAT-1"))
        self.backend.reconciliation_delay_hours = 1
        self.assertEqual(
            sorted(self._report(category="appointment_no_charge").mapped("reference")),
            ["APT-NEW", "APT-OLD"],
        )
        self._process(charge_event("CHG-OLD", encounter_id="APT-OLD"))
        self.assertEqual(
            self._report(category="appointment_no_charge").mapped("reference"), ["APT-NEW"]
        )

    def test_report_shows_charges_not_invoiced_until_they_are(self):
        self.backend.latency_tier = "batch"
        charge = self._result(self._process(charge_event()))
        row = self._report(category="charge_not_invoiced")
        self.assertEqual((row.reference, row.amount, row.res_id), ("CHG-1", 120.0, charge.id))
        self.assertEqual(row.action_open_record()["res_id"], charge.id)
        groups = self.env["integration.reconciliation.report"].read_group(
            [("backend_id", "=", self.backend.id)], ["amount:sum"], ["backend_id", "date:day"]
        )
        self.assertEqual([g["amount"] for g in groups], [120.0])
        self.env["integration.charge"]._cron_invoice_approved_charges()
        self.assertFalse(self._report(category="charge_not_invoiced"))

    def test_daily_digest_is_posted_to_the_finance_team(self):
        self.backend.latency_tier = "batch"
        self._process(charge_event())
        finance = self.env["res.partner"].create({"name": "Finance team", "email": "fin@x.example"})
        self.backend.billing_digest_partner_ids = finance
        # The scheduled action itself, as ir.cron runs it.
        self.env.ref(
            "integration_hub_billing.ir_cron_integration_billing_digest"
        ).method_direct_trigger()
        self.env.invalidate_all()
        digest = self.backend.message_ids.filtered(lambda m: "digest" in (m.subject or ""))
        self.assertEqual(len(digest), 1)
        self.assertIn(finance, digest.partner_ids)
        self.assertIn("Approved charge not invoiced", digest.body)
        self.assertIn("120.00", digest.body)

    def test_invoice_smart_button_opens_the_messages_that_built_it(self):
        message = self._process(charge_event())
        invoice = self._invoices_of(self._result(message), "payer")
        self.assertEqual(invoice.integration_message_count, 1)
        action = invoice.action_view_integration_messages()
        self.assertEqual(action["res_model"], "integration.message")
        self.assertEqual(self.env["integration.message"].search(action["domain"]), message)

    def test_billing_exceptions_menu_shows_billing_exceptions_only(self):
        bad = self._process(charge_event(service_code="NOPE"), expect="exception")
        other = self._create_message()  # a contact.upserted message of the core
        other.exception_ids = [(0, 0, {"kind": "other", "explanation": "not billing"})]
        action = self.env.ref("integration_hub_billing.integration_exception_action_billing")
        shown = self.env["integration.exception"].search(
            [
                ("backend_id", "in", (self.backend | other.backend_id).ids),
                *safe_eval(action.domain),
            ]
        )
        self.assertEqual(shown, bad.exception_ids)
        menu = self.env.ref("integration_hub_billing.integration_exception_menu_billing")
        self.assertEqual(menu.parent_id.parent_id, self.env.ref("account.menu_finance"))

    def test_billing_user_maps_a_code_without_hub_configuration_rights(self):
        self._track_changes()
        message = self._process(charge_event(service_code="NEW-1"), expect="exception")
        user = new_test_user(
            self.env,
            login="billing_clerk",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.backend.company_id.id,
            company_ids=[(6, 0, self.backend.company_id.ids)],
        )
        clerk_env = self.env(user=user, su=False)
        exception = clerk_env["integration.exception"].browse(message.exception_ids.id)
        action = exception.action_map_code()
        wizard = (
            clerk_env[action["res_model"]]
            .with_context(**action["context"])
            .create({"res_id": self.product_visit.id})
        )
        self.assertEqual(wizard.external_code, "NEW-1")
        wizard.action_map_and_retry()
        self.assertEqual(message.state, "queued")
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(message.exception_ids.state, "resolved")
        self.assertIn(
            "billing_clerk",
            " ".join(message.exception_ids.message_ids.mapped("body")).lower().replace(" ", "_"),
        )
        with self.assertRaises(AccessError):
            clerk_env["integration.code.map"].create(
                {
                    "backend_id": self.backend.id,
                    "kind": "service",
                    "external_code": "DIRECT",
                    "record_ref": f"product.product,{self.product_visit.id}",
                }
            )
