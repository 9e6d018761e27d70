import json

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase
from odoo.addons.queue_job.job import Job

from .test_demo import SAMPLES, send_to_demo

# A sensible order: the master data first, then the flows that use it.
SUPPLY_ORDER = (
    "supplier.upserted",
    "item.upserted",
    "catalog.price_updated",
    "supply.consumed",
    "purchase.requested",
    "supplier.acknowledged",
    "asn.received",
    "goods.received",
)


@tagged("post_install", "-at_install")
class TestDemoSupply(IntegrationHubCase, HttpCase):
    def _send(self, event_type):
        body = (SAMPLES / f"{event_type}.json").read_bytes()
        message = send_to_demo(self, "demo-supply", body)
        self.assertEqual(message.state, "done", f"{event_type}: {message.last_error}")
        return self.env[message.result_model].browse(message.result_res_id), message

    def test_each_supply_sample_as_it_is_succeeds_on_the_demo_endpoint(self):
        gloves = self.env.ref("integration_hub_demo.product_product_gloves_demo")
        or2 = self.env.ref("integration_hub_demo.stock_location_or2_demo")
        order = self.env.ref("integration_hub_demo.purchase_order_p00012_demo")
        results = {}
        for event_type in SUPPLY_ORDER:
            with self.subTest(event_type=event_type):
                results[event_type] = self._send(event_type)

        self.assertEqual(results["supplier.upserted"][0].name, "Harbor Medical Distribution")
        self.assertEqual(results["item.upserted"][0], gloves)
        self.assertEqual(gloves.barcode, "0123456789012")
        self.assertEqual(results["catalog.price_updated"][0].price, 0.09)

        consumption = results["supply.consumed"][0]
        self.assertEqual(
            (consumption.product_id, consumption.location_id, consumption.move_id.state),
            (gloves, or2, "done"),
        )
        self.assertEqual(consumption.move_id.move_line_ids.lot_id.name, "L2026-10")
        # OR-2 fell below its minimum: the replenishment waits on the critical channel.
        job = self.env["queue.job"].search(
            [("channel", "=", "root.integration_critical"), ("state", "=", "pending")]
        )
        self.assertEqual(len(job), 1)
        loaded = Job.load(self.env, job.uuid)
        loaded.perform()
        decision = consumption.replenishment_ids
        self.assertEqual(
            (decision.decision, decision.picking_id.location_dest_id), ("transfer", or2)
        )

        request_order = results["purchase.requested"][0]
        self.assertEqual((request_order.state, request_order.origin), ("draft", "PR-2201"))
        self.assertNotEqual(request_order.name, order.name)

        self.assertEqual(results["supplier.acknowledged"][0], order)
        ack_message = results["supplier.acknowledged"][1]
        self.assertEqual(order.order_line.integration_ack_state, "changed")
        self.assertEqual(ack_message.exception_ids.kind, "supplier_changed")

        receipt = results["asn.received"][0]
        self.assertEqual(results["goods.received"][0], receipt)
        self.assertEqual((receipt.state, receipt.move_ids.quantity), ("done", 390.0))
        self.assertEqual(order.order_line.qty_received, 390.0)
        goods_message = results["goods.received"][1]
        self.assertEqual(goods_message.exception_ids.kind, "quantity_mismatch")
        sample = json.loads((SAMPLES / "goods.received.json").read_text())
        self.assertEqual(sample["data"]["lines"][0]["quantity"], "390")

    def test_supplier_events_find_the_demo_order_beside_an_order_numbered_alike(self):
        order = self.env.ref("integration_hub_demo.purchase_order_p00012_demo")
        # Odoo's sequence goes on after the demo's order...
        number = self.env["ir.sequence"].next_by_code("purchase.order")
        self.assertGreater(int(number.removeprefix("P")), 12, number)
        # ...and an order numbered alike anyway (renamed by hand, imported) changes nothing.
        homonym = self.env["purchase.order"].create(
            {"name": "P00012", "partner_id": order.partner_id.id}
        )
        receipt = order.picking_ids
        self.assertEqual(self._send("supplier.acknowledged")[0], order)
        self.assertEqual(self._send("asn.received")[0], receipt)
        self.assertEqual(self._send("goods.received")[0], receipt)
        self.assertEqual(receipt.state, "done")
        self.assertEqual(order.order_line.qty_received, 390.0)
        self.assertFalse(homonym.integration_ack_state)
        self.assertFalse(homonym.picking_ids)

    def test_or2_minimum_rule_survives_the_replenishment_report_and_replenishes(self):
        rule = self.env.ref("integration_hub_demo.stock_warehouse_orderpoint_gloves_or2_demo")
        # The admin opens Inventory > Operations > Replenishment (Odoo deleted the rule).
        admin = self.env.ref("base.user_admin")
        self.env.ref("stock.action_replenishment").with_user(admin).run()
        self.assertTrue(rule.exists())
        consumption, _message = self._send("supply.consumed")
        job = self.env["queue.job"].search(
            [("channel", "=", "root.integration_critical"), ("state", "=", "pending")]
        )
        Job.load(self.env, job.uuid).perform()
        decision = consumption.replenishment_ids
        self.assertEqual(
            (decision.orderpoint_id, decision.decision, decision.picking_id.location_dest_id),
            (rule, "transfer", rule.location_id),
        )
