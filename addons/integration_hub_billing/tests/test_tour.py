import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.integration_hub.tests.common import signed_headers

from .common import BillingCase, charge_event, patient_event, payer_event, payment_event


@tagged("post_install", "-at_install")
class TestFinanceTour(BillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()
        cls.finance_user = new_test_user(
            cls.env,
            login="finance_tour",
            password="finance_tour",
            name="Finance Tour",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.env.company.id,
        )
        cls.tour_product = cls._service_product("Tour visit", cls.env.company)
        cls.tour_product.sale_ok = True

    def _post(self, event):
        body = json.dumps(event).encode()
        return self.url_open(
            f"/integration/webhook/{self.endpoint.token}",
            data=body,
            headers=signed_headers(body),
        )

    def test_finance_user_maps_the_code_retries_and_sees_the_invoice(self):
        for event in (patient_event(), payer_event(name="Tour Payer")):
            self._process(event)
        response = self._post(
            charge_event("CHG-TOUR", service_code="TOUR-1", patient_share="0", payer_share="120.00")
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        self.assertEqual(message.state, "exception")

        self.start_tour("/odoo", "integration_hub_billing_map_code", login="finance_tour")

        self.env.invalidate_all()
        exception = message.exception_ids
        self.assertEqual(exception.state, "in_progress")
        self.assertEqual(exception.retry_user_id, self.finance_user)
        self.assertFalse(exception.resolved_by_id, "not resolved before it succeeds")
        self.assertEqual(message.state, "queued")
        mapping = self.env["integration.code.map"].search(
            [("backend_id", "=", self.backend.id), ("external_code", "=", "TOUR-1")]
        )
        self.assertEqual(mapping.record_ref, self.tour_product)
        # The job runner's turn.
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        invoice = self._invoices_of(self._result(message), "payer")
        self.assertEqual((invoice.state, invoice.amount_total), ("posted", 120.0))
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolved_by_id, self.finance_user)

        self.start_tour("/odoo", "integration_hub_billing_see_invoice", login="finance_tour")

    def test_payment_sent_before_its_charge_resolves_by_itself(self):
        for event in (patient_event(), payer_event()):
            self._process(event)
        response = self._post(
            payment_event("PMT-FIRST", allocations=[{"charge_id": "CHG-LATE", "amount": "100.00"}])
        )
        self.assertEqual(response.status_code, 202, response.text)
        payment_message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(payment_message)
        self.assertEqual(payment_message.state, "retrying")
        self.assertTrue(payment_message.job_id.eta, "it waits on the backend's schedule")
        response = self._post(charge_event("CHG-LATE"))
        self.assertEqual(response.status_code, 202, response.text)
        charge_message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(charge_message)
        self.assertEqual(charge_message.state, "done", charge_message.last_error)
        payment_message.job_id.invalidate_recordset()
        self.assertFalse(payment_message.job_id.eta, "the charge's invoice wakes the payment")
        # The job runner's turn: nobody clicked anything.
        self._perform_job(payment_message)
        self.assertEqual(payment_message.state, "done", payment_message.last_error)
        invoice = self._invoices_of(self._result(charge_message), "payer")
        self.assertEqual((invoice.state, invoice.amount_residual), ("posted", 0.0))

    def test_webhook_refuses_amounts_that_are_not_decimal_strings(self):
        for bad in (120.0, "12,00", "abc", "-5.00", True):
            with self.subTest(unit_price=bad):
                response = self._post(charge_event(unit_price=bad))
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(response.json()["code"], "invalid_data")
                self.assertIn("unit_price", response.text)

    def test_billing_user_without_hub_rights_cannot_configure_backends(self):
        backends = self.env(user=self.finance_user, su=False)["integration.backend"]
        self.assertTrue(backends.search([("id", "=", self.backend.id)]))
        with self.assertRaises(AccessError):
            backends.browse(self.backend.id).write({"charge_auto_approve": False})
        self.assertTrue(self.backend.charge_auto_approve)
