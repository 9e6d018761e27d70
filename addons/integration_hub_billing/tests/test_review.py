import json

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.integration_hub.tests.common import signed_headers

from .common import BillingCase, charge_event


@tagged("post_install", "-at_install")
class TestChargeReview(BillingCase, HttpCase):
    """Charges far above the service's price wait for finance's review before any
    invoice; sent through the signed webhook."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_billing()
        cls.env["integration.review.rule"].search([]).write({"active": False})
        cls.env["integration.alert.rule"].search([]).write({"active": False})
        cls.product_visit.list_price = 120.0
        cls.rule = cls.env["integration.review.rule"].create(
            {
                "name": "Charge over 5 times the service's price",
                "event_type_id": cls.billing_types.filtered(
                    lambda t: t.code == "charge.captured"
                ).id,
                "field_path": "unit_price",
                "maximum": 10000,
                "usual_factor": 5,
            }
        )

    def setUp(self):
        super().setUp()
        self._setup_parties()

    def _post(self, event):
        body = json.dumps(event).encode()
        response = self.url_open(
            f"/integration/webhook/{self.endpoint.token}", data=body, headers=signed_headers(body)
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        return message

    def _charge(self, external_id):
        return self._bound("integration.charge", external_id)

    def test_usual_price_is_invoiced_at_once(self):
        message = self._post(charge_event("CHG-R1"))
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self._charge("CHG-R1").state, "invoiced")

    def test_over_five_times_the_price_waits_then_approve_and_post_invoices(self):
        event = charge_event("CHG-R2", unit_price="650.00", patient_share="0", payer_share="650.00")
        message = self._post(event)
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual(exception.kind, "review")
        self.assertIn("unit_price is 650, over 5 times its usual value 120", exception.explanation)
        self.assertNotIn("PAT-1", exception.explanation, "no patient data in the explanation")
        self.assertFalse(self._charge("CHG-R2"), "no charge, no invoice before the review")
        exception.action_approve()
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self._charge("CHG-R2").state, "invoiced")
        self.assertEqual((exception.state, exception.approved_by_id), ("resolved", self.env.user))

    def test_over_the_maximum_then_reject_cancels_it(self):
        self.product_visit.list_price = 0  # no usual price: the maximum alone applies
        event = charge_event(
            "CHG-R3", unit_price="25000.00", patient_share="0", payer_share="25000.00"
        )
        message = self._post(event)
        self.assertIn("over the maximum 10000", message.exception_ids.explanation)
        message.exception_ids.action_reject()
        self.assertEqual(message.state, "cancelled")
        self.assertFalse(self._charge("CHG-R3"))

    def test_charges_waiting_for_charge_review_are_a_gap_an_alert_watches(self):
        self.rule.active = False
        self.backend.charge_auto_approve_max = 100.0
        rule = self.env["integration.alert.rule"].create(
            {
                "name": "Charges to review",
                "backend_id": self.backend.id,
                "condition": "gap",
                "gap_code": "billing.charge_to_review",
                "threshold": 0,
            }
        )
        self._post(charge_event("CHG-R4"))
        self.assertEqual(self._charge("CHG-R4").state, "to_review")
        gaps = self.backend._overview_gaps()[self.backend.id]
        self.assertEqual(gaps["billing.charge_to_review"], 1)
        # The Overview card shows it and opens the charge's row of the reconciliation
        # report; a hub user who may not read that report sees the card without it.
        self.assertEqual(self.backend.overview_gaps["billing.charge_to_review"], 1)
        action = self.backend.with_context(
            figure="gap", gap="billing.charge_to_review"
        ).action_overview_open()
        rows = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(rows.mapped("category"), ["charge_to_review"])
        hub_user = new_test_user(
            self.env, "gap_hub_user", groups="integration_hub.integration_hub_group_user"
        )
        self.assertFalse(self.backend.with_user(hub_user).overview_gaps)
        with self.assertRaises(UserError):
            self.backend.with_context(figure="gap", gap="unknown.gap").action_overview_open()
        self.env["integration.alert.rule"]._cron_evaluate()
        self.assertEqual(rule.alert_ids.state, "firing")
        self._charge("CHG-R4").action_approve()
        self.env["integration.alert.rule"]._cron_evaluate()
        self.assertEqual(rule.alert_ids.state, "resolved")
