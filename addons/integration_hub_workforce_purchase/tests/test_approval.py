import json

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.integration_hub.tests.common import signed_headers
from odoo.addons.integration_hub_supply.tests.common import SupplyCase
from odoo.addons.integration_hub_workforce.tests.common import (
    WorkforceCase,
    manager_event,
    sample,
)


@tagged("post_install", "-at_install")
class TestWorkforceApproval(WorkforceCase, SupplyCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()
        cls._setup_workforce()
        purchase_user = "purchase.group_purchase_user"
        cls.dana = new_test_user(
            cls.env, login="dana.whitfield@clinic.example", name="Dana", groups=purchase_user
        )
        cls.lee = new_test_user(
            cls.env, login="lee.park@clinic.example", name="Lee", groups=purchase_user
        )
        cls.buyer = new_test_user(cls.env, login="wf_buyer", groups=purchase_user)
        cls.purchase_manager = new_test_user(
            cls.env, login="wf_purchase_manager", groups="purchase.group_purchase_manager"
        )
        cls.company.write({"po_double_validation": "two_step", "po_double_validation_amount": 1})

    def setUp(self):
        super().setUp()
        self._done(sample("cost_center.upserted"))
        self.department = self._done(sample("department.upserted"))
        self.manager = self._done(manager_event(department_code="SURG"))

    def _request(self, **data):
        event = sample("purchase.requested", **data)
        body = json.dumps(event).encode()
        response = self.url_open(
            f"/integration/webhook/{self.supply_endpoint.token}",
            data=body,
            headers=signed_headers(body),
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        return self.env[message.result_model].browse(message.result_res_id), message

    def _approval_activity(self, order):
        return order.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo")
        )

    def test_a_department_request_waits_for_its_manager_approval(self):
        order, _message = self._request()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.integration_department_id, self.department)
        self.assertEqual(order.integration_approver_id, self.dana)
        self.assertEqual(self._approval_activity(order).user_id, self.dana)

    def test_only_the_approver_or_a_purchase_manager_confirms(self):
        self.department.integration_approval_limit = 1000
        order, _message = self._request()
        with self.assertRaisesRegex(UserError, "Only Dana, manager of Surgery"):
            order.with_user(self.buyer).button_confirm()
        self.assertEqual(order.state, "draft")
        order.with_user(self.dana).button_confirm()
        self.assertEqual(order.state, "purchase")
        self.assertFalse(self._approval_activity(order))

        other, _message = self._request(id="PR-2202", lines=[self._line("PR-2202-1")])
        other.with_user(self.purchase_manager).button_confirm()
        self.assertEqual(other.state, "purchase")

    def test_above_the_department_limit_purchase_approval_applies_as_well(self):
        self.department.integration_approval_limit = 10
        order, _message = self._request()
        self.assertGreater(order.amount_total, 10)
        order.with_user(self.dana).button_confirm()
        self.assertEqual(order.state, "to approve")
        order.with_user(self.purchase_manager).button_approve()
        self.assertEqual(order.state, "purchase")

    def test_a_new_manager_takes_over_open_approvals(self):
        order, _message = self._request()
        self._track_changes()
        self._done(
            manager_event(
                id="EMP-9",
                name="Lee Park",
                work_email="lee.park@clinic.example",
                department_code="SURG",
            )
        )
        self._done(
            sample("department.upserted", manager_id="EMP-9", updated_at="2026-11-22T07:00:00Z")
        )
        self.assertEqual(order.integration_approver_id, self.lee)
        self.assertEqual(self._approval_activity(order).user_id, self.lee)
        self.assertIn("Approval moved from Dana Whitfield", order.message_ids[0].body)
        with self.assertRaises(UserError):
            order.with_user(self.dana).button_confirm()

    def test_a_manager_without_user_opens_a_no_approver_exception(self):
        self._done(
            manager_event(work_email="dana@elsewhere.example", updated_at="2026-11-22T07:00:00Z")
        )
        order, message = self._request()
        self.assertFalse(order.integration_approver_id)
        exception = message.exception_ids
        self.assertEqual(exception.kind, "no_approver")
        self.assertIn(order.name, exception.explanation)
        order.with_user(self.purchase_manager).button_confirm()
        self.assertEqual(order.state, "purchase")

    @staticmethod
    def _line(line_id):
        return {"line_id": line_id, "item_code": "SKU-GLOVE-M", "quantity": "500", "uom": "Units"}
