from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.integration_hub.tests.common import RpcMixin

from .common import BillingCase, charge_event, patient_event, payer_event

ACCESS_ERROR = "odoo.exceptions.AccessError"


@tagged("post_install", "-at_install")
class TestPatientAccess(RpcMixin, BillingCase, HttpCase):
    """Patients on a need-to-know basis (issue 15, item 4), asked over JSON-RPC: billing
    clerks and Integrations users see them and work their invoices; other employees
    neither search nor read them; a patient with portal access still reads herself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()
        company = cls.env.company
        cls.users = {
            "internal": new_test_user(
                cls.env, "pa_internal", groups="base.group_user", company_id=company.id
            ),
            "invoicing": new_test_user(
                cls.env,
                "pa_invoicing",
                groups="base.group_user,account.group_account_invoice",
                company_id=company.id,
            ),
            "hub_user": new_test_user(
                cls.env,
                "pa_hub_user",
                groups="integration_hub.integration_hub_group_user",
                company_id=company.id,
            ),
        }

    def setUp(self):
        super().setUp()
        self._process(patient_event(email="jane.doe@example.com"))
        self._process(payer_event())
        self.patient = self._bound("res.partner", "PAT-1")
        self.charge = self._result(self._process(charge_event()))
        self.invoice = self._invoices_of(self.charge, "patient")

    def test_patients_are_marked_and_seen_by_billing_and_the_hub_only(self):
        self.assertTrue(self.patient.integration_patient)
        colleague = self.env["res.partner"].create({"name": "Northside Clinic", "is_company": True})
        for role, allowed in (("internal", False), ("invoicing", True), ("hub_user", True)):
            user = self.users[role]
            with self.subTest(role=role):
                ok, rows = self._rpc(
                    user,
                    "res.partner",
                    "search_read",
                    [("email", "=", "jane.doe@example.com")],
                    ["name", "email"],
                )
                self.assertTrue(ok, rows)
                self.assertEqual([row["id"] for row in rows], self.patient.ids if allowed else [])
                ok, result = self._rpc(user, "res.partner", "read", self.patient.ids, ["phone"])
                self.assertEqual(ok, allowed, result)
                if not allowed:
                    self.assertEqual(result, ACCESS_ERROR)
                # Every other contact stays as visible as before.
                ok, rows = self._rpc(
                    user, "res.partner", "search_read", [("id", "=", colleague.id)], ["name"]
                )
                self.assertEqual((ok, [row["id"] for row in rows]), (True, colleague.ids))

    def test_a_billing_clerk_opens_the_patient_and_registers_the_payment(self):
        clerk = self.users["invoicing"]
        self.assertEqual(self.invoice.partner_id, self.patient)
        self.assertEqual(self.invoice.state, "posted")
        # The invoice form and the patient's form, as the web client reads them.
        ok, rows = self._rpc(
            clerk,
            "account.move",
            "web_read",
            self.invoice.ids,
            {"partner_id": {"fields": {"display_name": {}}}, "amount_residual": {}},
        )
        self.assertTrue(ok, rows)
        self.assertEqual(rows[0]["partner_id"]["display_name"], self.patient.display_name)
        ok, rows = self._rpc(
            clerk, "res.partner", "web_read", self.patient.ids, {"name": {}, "email": {}}
        )
        self.assertTrue(ok, rows)
        ok, wizard = self._rpc(
            clerk,
            "account.payment.register",
            "create",
            {},
            context={"active_model": "account.move", "active_ids": self.invoice.ids},
        )
        self.assertTrue(ok, wizard)
        ok, result = self._rpc(
            clerk,
            "account.payment.register",
            "action_create_payments",
            [wizard],
            context={"active_model": "account.move", "active_ids": self.invoice.ids},
        )
        self.assertTrue(ok, result)
        self.invoice.invalidate_recordset()
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))

    def test_a_patient_with_portal_access_still_reads_herself(self):
        portal = new_test_user(
            self.env, "pa_portal_patient", groups="base.group_portal", partner_id=self.patient.id
        )
        ok, rows = self._rpc(portal, "res.partner", "read", self.patient.ids, ["name"])
        self.assertTrue(ok, rows)
        self.assertEqual(rows[0]["name"], self.patient.name)

    def test_only_the_system_administrator_unmarks_a_patient(self):
        # A billing clerk who may edit contacts (Contact creation) still may not unmark.
        editor = new_test_user(
            self.env,
            "pa_contact_editor",
            groups="account.group_account_invoice,base.group_partner_manager",
        )
        for user in (editor, self.users["hub_user"]):
            with self.subTest(user=user.login):
                ok, result = self._rpc(
                    user,
                    "res.partner",
                    "write",
                    self.patient.ids,
                    {"integration_patient": False},
                )
                self.assertEqual((ok, result), (False, ACCESS_ERROR))
        self.assertTrue(self.patient.integration_patient)
        ok, result = self._rpc(editor, "res.partner", "write", self.patient.ids, {"phone": "555"})
        self.assertTrue(ok, result)
        ok, rows = self._rpc(
            self.users["internal"], "res.partner", "search", [("id", "=", self.patient.id)]
        )
        self.assertEqual((ok, rows), (True, []))
