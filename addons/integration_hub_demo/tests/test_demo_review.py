import json

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase

from .test_demo import SAMPLES, send_to_demo


@tagged("post_install", "-at_install")
class TestDemoReview(IntegrationHubCase, HttpCase):
    """The demo's review rules hold implausible numbers sent to the demo endpoints."""

    def _send(self, token, event_type, **data):
        event = json.loads((SAMPLES / f"{event_type}.json").read_text())
        event["data"].update(data)
        body = json.dumps(event).encode()
        return send_to_demo(self, token, body)

    def _gloves_moves(self):
        return self.env["stock.move"].search(
            [
                (
                    "product_id",
                    "=",
                    self.env.ref("integration_hub_demo.product_product_gloves_demo").id,
                ),
                (
                    "location_id",
                    "=",
                    self.env.ref("integration_hub_demo.stock_location_or2_demo").id,
                ),
            ]
        )

    def test_100000_gloves_wait_for_review_then_approve_books_them(self):
        before = self._gloves_moves()
        message = self._send("demo-supply", "supply.consumed", id="CON-DEMO-R1", quantity="100000")
        self.assertEqual(message.state, "exception", message.last_error)
        exception = message.exception_ids
        self.assertEqual(
            exception.review_rule_id,
            self.env.ref("integration_hub_demo.integration_review_rule_consumption_demo"),
        )
        self.assertEqual(self._gloves_moves(), before, "nothing booked before the review")
        exception.action_approve()
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual((self._gloves_moves() - before).quantity, 100000.0)

    def test_sample_consumption_is_under_the_limit(self):
        message = self._send("demo-supply", "supply.consumed", id="CON-DEMO-R2")
        self.assertEqual(message.state, "done", message.last_error)

    def test_a_charge_over_5000_per_unit_waits_for_review_and_reject_cancels_it(self):
        message = self._send(
            "demo-billing",
            "charge.captured",
            id="CHG-DEMO-R1",
            unit_price="12000.00",
            patient_share="0",
            payer_share="12000.00",
        )
        self.assertEqual(message.state, "exception", message.last_error)
        self.assertEqual(message.exception_ids.kind, "review")
        message.exception_ids.action_reject()
        self.assertEqual(message.state, "cancelled")
