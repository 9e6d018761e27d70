from odoo import SUPERUSER_ID
from odoo.tests import TransactionCase, tagged

from odoo.addons.integration_hub.tests.common import trap_jobs

from ..models.integration_supply_consumption import CRITICAL_PRIORITY
from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestReplenishment(SupplyCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()
        cls.orderpoint = cls._orderpoint(cls.care_location, 50, 100)

    @classmethod
    def _orderpoint(cls, location, minimum, maximum):
        return cls.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": cls.gloves.id,
                "location_id": location.id,
                "warehouse_id": cls.warehouse.id,
                "product_min_qty": minimum,
                "product_max_qty": maximum,
                "trigger": "manual",
            }
        )

    def _consume(self, quantity="4", **data):
        """Consume and run what the consumption queued, as the job runner would."""
        message = self._supply_message(sample("supply.consumed", quantity=quantity, **data))
        with trap_jobs() as trap:
            self._perform_job(message)
            self._assert_done(message)
            jobs = list(trap.enqueued_jobs)
            trap.perform_enqueued_jobs()
        return message, jobs

    def test_critical_item_below_minimum_queues_a_high_priority_job_on_its_channel(self):
        self._put_in_stock(self.gloves, self.care_location, 52, "L2026-10")
        message = self._supply_message(sample("supply.consumed"))
        with trap_jobs() as trap:
            self._perform_job(message)
            consumption = self._assert_done(message)
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                self.orderpoint._job_integration_replenish,
                args=(consumption,),
                properties={
                    "channel": "root.integration_critical",
                    "priority": CRITICAL_PRIORITY,
                    "identity_key": f"stock.warehouse.orderpoint,{self.orderpoint.id},"
                    "integration_replenish",
                },
            )
        # Ahead of every message job (queue_job's default priority is 10), on a channel
        # that is not below the backends' channels.
        self.assertLess(CRITICAL_PRIORITY, message.job_id.priority)
        self.assertEqual(
            self.env.ref("integration_hub_supply.queue_job_channel_integration_critical").parent_id,
            self.env.ref("queue_job.channel_root"),
        )

    def test_no_job_above_minimum_or_for_items_that_are_not_critical(self):
        self._put_in_stock(self.gloves, self.care_location, 60, "L2026-10")
        _message, jobs = self._consume("4")
        self.assertFalse(jobs)
        self.gloves.integration_critical = False
        _message, jobs = self._consume("20", id="CON-2")
        self.assertFalse(jobs)
        self.assertFalse(self.env["integration.supply.replenishment"].search([]))

    def test_surplus_elsewhere_is_transferred_before_anything_is_bought(self):
        self._put_in_stock(self.gloves, self.care_location, 52, "L2026-10")
        self._put_in_stock(self.gloves, self.stock_location, 500, "L2026-10")
        message, jobs = self._consume("4")
        self.assertEqual(len(jobs), 1)
        decision = self.env["integration.supply.replenishment"].search([])
        self.assertEqual(
            (
                decision.decision,
                decision.qty_on_hand,
                decision.qty_minimum,
                decision.qty_needed,
                decision.source_location_id,
                decision.consumption_id,
            ),
            ("transfer", 48.0, 50.0, 52.0, self.stock_location, self._assert_done(message)),
        )
        picking = decision.picking_id
        self.assertEqual(
            (
                picking.picking_type_id,
                picking.location_id,
                picking.location_dest_id,
                picking.state,
                picking.move_ids.product_uom_qty,
            ),
            (self.warehouse.int_type_id, self.stock_location, self.care_location, "assigned", 52.0),
        )
        self.assertIn("enough for the 52.0 needed", decision.reason)
        self.assertFalse(
            self.env["purchase.order.line"].search([("orderpoint_id", "=", self.orderpoint.id)])
        )
        # The transfer on its way counts: the next consumption needs nothing more.
        self._consume("2", id="CON-2")
        latest = self.env["integration.supply.replenishment"].search([], limit=1)
        self.assertEqual(latest.decision, "nothing")
        self.assertEqual(
            self.env["stock.picking"].search_count([("origin", "=", self.orderpoint.name)]), 1
        )

    def test_without_enough_surplus_it_adds_to_a_draft_order_of_the_preferred_vendor(self):
        self._put_in_stock(self.gloves, self.care_location, 52, "L2026-10")
        # 100 at the main stock, but its own minimum keeps 70 of them there.
        self._put_in_stock(self.gloves, self.stock_location, 100, "L2026-10")
        self._orderpoint(self.stock_location, 70, 200)
        draft = self.env["purchase.order"].create(
            {"partner_id": self.vendor.id, "picking_type_id": self.warehouse.in_type_id.id}
        )
        self._consume("4")
        decision = self.env["integration.supply.replenishment"].search([])
        self.assertEqual(
            (decision.decision, decision.purchase_order_id, decision.qty_needed),
            ("purchase", draft, 52.0),
        )
        self.assertIn("the largest surplus is 30.0", decision.reason)
        self.assertIn("Harbor Test Distribution", decision.reason)
        line = draft.order_line
        self.assertEqual(
            (line.product_id, line.product_qty, line.orderpoint_id, line.price_unit, draft.state),
            (self.gloves, 52.0, self.orderpoint, 0.2, "draft"),
        )
        # The order on its way counts: the next consumption does not order again.
        self._consume("2", id="CON-2")
        self.assertEqual(draft.order_line.product_qty, 52.0)
        self.assertEqual(
            self.env["integration.supply.replenishment"].search([], limit=1).decision, "nothing"
        )

    def test_purchase_creates_the_draft_order_and_grows_its_line(self):
        self._put_in_stock(self.gloves, self.care_location, 52, "L2026-10")
        self._consume("4")
        order = self.env["integration.supply.replenishment"].search([]).purchase_order_id
        self.assertEqual(
            (order.partner_id, order.state, order.order_line.product_qty),
            (self.vendor, "draft", 52.0),
        )
        # More consumed than the order covers: the same line grows.
        self._consume("60", id="CON-2")
        self.assertEqual(len(order.order_line), 1)
        self.assertEqual(order.order_line.product_qty, 112.0)

    def test_without_vendor_the_decision_says_so(self):
        self.gloves.seller_ids.unlink()
        self._put_in_stock(self.gloves, self.care_location, 52, "L2026-10")
        self._consume("4")
        decision = self.env["integration.supply.replenishment"].search([])
        self.assertEqual(decision.decision, "no_vendor")
        self.assertIn("no other location holds a surplus", decision.reason)
        self.assertFalse(self.env["purchase.order"].search([("partner_id", "=", self.vendor.id)]))

    def test_minimum_rule_survives_the_replenishment_report_and_still_replenishes(self):
        # Made by the superuser, as data files and scripts make it (the demo's OR-2 rule):
        # Odoo takes such manual rules for its report's throwaway ones.
        self.assertEqual(self.orderpoint.create_uid.id, SUPERUSER_ID)
        other = self.env["product.product"].create({"name": "Gauze", "is_storable": True})
        throwaway = self.env["stock.warehouse.orderpoint"].create(
            {"product_id": other.id, "location_id": self.stock_location.id, "trigger": "manual"}
        )
        self._put_in_stock(self.gloves, self.care_location, 52, "L2026-10")
        self._put_in_stock(self.gloves, self.stock_location, 500, "L2026-10")
        # What the menu Inventory > Operations > Replenishment runs.
        self.env.ref("stock.action_replenishment").run()
        self.assertFalse(throwaway.exists(), "Odoo's own clean-up still runs")
        self.assertTrue(self.orderpoint.exists())
        # Ordering once from the report, with nothing to order, keeps it too.
        self.orderpoint.action_replenish()
        self.assertTrue(self.orderpoint.exists())
        message, jobs = self._consume("4")
        self.assertEqual(len(jobs), 1)
        decision = self.env["integration.supply.replenishment"].search([])
        self.assertEqual(
            (decision.decision, decision.orderpoint_id, decision.consumption_id),
            ("transfer", self.orderpoint, self._assert_done(message)),
        )
