import json

from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.integration_hub.tests.common import signed_headers

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestConsumptionReview(SupplyCase, HttpCase):
    """Implausible consumptions sent through the real webhook wait for a person."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()
        cls.consumed = cls.supply_types.filtered(lambda t: t.code == "supply.consumed")
        cls.env["integration.review.rule"].search([]).write({"active": False})
        cls.rule = cls.env["integration.review.rule"].create(
            {
                "name": "Consumption over 1,000 units",
                "event_type_id": cls.consumed.id,
                "field_path": "quantity",
                "maximum": 1000,
            }
        )

    def setUp(self):
        super().setUp()
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")

    def _send(self, event_id, quantity):
        """Post a signed supply.consumed to the webhook, then run its job."""
        body = json.dumps(sample("supply.consumed", id=event_id, quantity=quantity)).encode()
        response = self.url_open(
            f"/integration/webhook/{self.supply_endpoint.token}",
            data=body,
            headers=signed_headers(body),
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        return message

    def _moves(self):
        return self.env["stock.move"].search(
            [("product_id", "=", self.gloves.id), ("location_id", "=", self.care_location.id)]
        )

    def test_100000_gloves_wait_for_review_and_book_nothing(self):
        message = self._send("CON-R1", "100000")
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual((exception.kind, exception.review_rule_id), ("review", self.rule))
        self.assertIn("quantity is 100000, over the maximum 1000", exception.explanation)
        self.assertFalse(self._moves(), "no stock move before the review")
        self.assertFalse(
            self.env["integration.supply.consumption"].search([("name", "=", "CON-R1")])
        )

    def test_approve_and_post_books_the_move_once(self):
        message = self._send("CON-R2", "100000")
        exception = message.exception_ids
        exception.action_approve()
        self.assertEqual(
            (exception.approved_by_id, bool(exception.approved_date)), (self.env.user, True)
        )
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        move = self._moves()
        self.assertEqual((move.state, move.quantity), ("done", 100000.0))
        self.assertEqual(exception.state, "resolved")

    def test_reject_cancels_the_message_and_books_nothing(self):
        message = self._send("CON-R3", "100000")
        message.exception_ids.action_reject()
        self.assertEqual(message.state, "cancelled")
        self.assertFalse(self._moves())

    def test_under_the_limit_is_booked_at_once(self):
        message = self._send("CON-R4", "4")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self._moves().quantity, 4.0)
        self.assertFalse(message.exception_ids)

    def test_over_ten_times_the_item_s_usual_quantity_waits_for_review(self):
        self.rule.write({"maximum": 0, "usual_factor": 10})
        first = self._send("CON-R5", "200")
        self.assertEqual(first.state, "done", "no usual quantity before the first one")
        for i in range(2):
            self.assertEqual(self._send(f"CON-R6{i}", "2").state, "done")
        # Usual: (200 + 2 + 2) / 3 = 68 per consumption; 700 is over 10 times that.
        message = self._send("CON-R7", "700")
        self.assertEqual(message.state, "exception")
        self.assertIn("over 10 times its usual value 68", message.exception_ids.explanation)
        self.assertEqual(self._send("CON-R8", "600").state, "done")


@tagged("post_install", "-at_install")
class TestSupplyGapAlert(SupplyCase, TransactionCase):
    """Pending consumptions of a batch backend are a gap an alert rule watches."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()
        cls.env["integration.alert.rule"].search([]).write({"active": False})
        cls.env["integration.review.rule"].search([]).write({"active": False})
        cls.supply_backend.latency_tier = "batch"

    def test_pending_consumptions_fire_a_gap_alert_that_clears_once_booked(self):
        rule = self.env["integration.alert.rule"].create(
            {
                "name": "Consumptions not booked",
                "backend_id": self.supply_backend.id,
                "condition": "gap",
                "gap_code": "supply.pending_consumptions",
                "threshold": 1,
            }
        )
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        for i in range(2):
            self._assert_done(self._process(sample("supply.consumed", id=f"CON-G{i}")))
        gaps = self.supply_backend._overview_gaps()[self.supply_backend.id]
        self.assertEqual(gaps["supply.pending_consumptions"], 2)
        # The Overview card shows the gap and opens those consumptions.
        self.assertEqual(self.supply_backend.overview_gaps["supply.pending_consumptions"], 2)
        action = self.supply_backend.with_context(
            figure="gap", gap="supply.pending_consumptions"
        ).action_overview_open()
        self.assertEqual(
            set(self.env[action["res_model"]].search(action["domain"]).mapped("name")),
            {"CON-G0", "CON-G1"},
        )
        self.env["integration.alert.rule"]._cron_evaluate()
        alert = rule.alert_ids
        self.assertEqual((alert.state, alert.value, alert.threshold), ("firing", 2, 1))
        self.assertEqual(len(alert.activity_ids), 1)
        self.env["integration.supply.consumption"]._cron_validate_pending()
        self.env["integration.alert.rule"]._cron_evaluate()
        self.assertEqual(alert.state, "resolved")
        self.assertFalse(alert.activity_ids)
