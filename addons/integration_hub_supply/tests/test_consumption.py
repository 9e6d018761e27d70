from odoo.tests import TransactionCase, tagged

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestConsumption(SupplyCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()

    def _moves(self, product=None):
        return self.env["stock.move"].search(
            [
                ("product_id", "=", (product or self.gloves).id),
                ("location_id", "=", self.care_location.id),
                ("location_dest_id.integration_consumption", "=", True),
            ]
        )

    def test_consumption_posts_a_done_valued_move_with_its_lot(self):
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        message = self._process(sample("supply.consumed"))
        consumption = self._assert_done(message)
        move = consumption.move_id
        self.assertEqual(consumption._name, "integration.supply.consumption")
        self.assertEqual(
            (
                move.state,
                move.product_id,
                move.quantity,
                move.location_id,
                move.location_dest_id.usage,
                move.location_dest_id.company_id,
                move.move_line_ids.lot_id.name,
                move.origin,
            ),
            (
                "done",
                self.gloves,
                4.0,
                self.care_location,
                "inventory",
                self.company,
                "L2026-10",
                "SURG / APT-5001",
            ),
        )
        layer = move.stock_valuation_layer_ids
        self.assertEqual((layer.quantity, layer.value), (-4.0, -1.0))
        self.assertEqual(consumption.value, 1.0)
        self.assertEqual(
            (consumption.message_id, consumption.department_code, consumption.state),
            (message, "SURG", "done"),
        )
        self.assertEqual(str(consumption.consumed_at), "2026-11-21 08:15:00")
        self.assertEqual(
            self.gloves.with_context(location=self.care_location.id).qty_available, 96.0
        )

    def test_replay_and_resent_event_make_no_second_move(self):
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        event = sample("supply.consumed")
        message = self._process(event)
        consumption = self._assert_done(message)
        message.action_replay()
        self._perform_job(message)
        self.assertEqual(self._assert_done(message), consumption)
        # The same consumption sent again under a new webhook-id.
        self.assertEqual(self._assert_done(self._process(event)), consumption)
        self.assertEqual(len(self._moves()), 1)
        self.assertEqual(
            self.env["integration.supply.consumption"].search_count([("name", "=", "CON-70001")]),
            1,
        )

    def test_quantity_that_is_not_a_positive_number_is_a_business_error(self):
        for quantity, reason in (
            ("four", "'four' is not a decimal number"),
            ("0", "'0' must be greater than zero"),
            ("-2", "'-2' must not be negative"),
        ):
            with self.subTest(quantity=quantity):
                message = self._process(sample("supply.consumed", quantity=quantity))
                self.assertEqual(message.state, "exception")
                self.assertEqual(message.exception_ids.kind, "validation")
                self.assertIn(f"quantity: {reason}", message.last_error)
        self.assertFalse(self._moves())
        self.assertFalse(self.env["integration.supply.consumption"].search([]))

    def test_tracked_item_without_lot_is_refused(self):
        message = self._process(sample("supply.consumed", lot=None))
        self.assertEqual(message.state, "exception")
        self.assertIn("needs its 'lot'", message.last_error)
        self.assertFalse(self._moves())

    def test_location_mapped_outside_the_warehouse_is_refused(self):
        self._map("location", "VENDOR", self.env.ref("stock.stock_location_suppliers"))
        message = self._process(sample("supply.consumed", location_code="VENDOR"))
        self.assertEqual(message.exception_ids.kind, "validation")
        self.assertIn("not an internal location", message.last_error)

    def test_unknown_item_code_map_and_retry_makes_the_move(self):
        suture = self.env["product.product"].create(
            {"name": "Suture kit", "type": "consu", "is_storable": True, "standard_price": 3.0}
        )
        message = self._process(sample("supply.consumed", item_code="SKU-SUTURE", lot=None))
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual(
            (exception.kind, exception.code_kind_id.code, exception.external_code),
            ("unmapped_code", "item", "SKU-SUTURE"),
        )
        action = exception.action_map_code()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"res_id": suture.id})
        )
        wizard.action_map_and_retry()
        code_map = self.env["integration.code.map"].search(
            [("backend_id", "=", self.supply_backend.id), ("external_code", "=", "SKU-SUTURE")]
        )
        self.assertEqual((code_map.kind, code_map.record_ref), ("item", suture))
        self.assertEqual(message.state, "queued")
        self._perform_job(message)
        consumption = self._assert_done(message)
        self.assertEqual((consumption.product_id, consumption.move_id.state), (suture, "done"))
        self.assertEqual(exception.state, "resolved")

    def test_map_and_retry_needs_a_record(self):
        message = self._process(sample("supply.consumed", item_code="SKU-NONE"))
        wizard = self.env["integration.code.map.wizard"].create(
            {"exception_id": message.exception_ids.id}
        )
        with self.assertRaisesRegex(
            Exception, "Choose the Product Variant that Item code 'SKU-NONE'"
        ):
            wizard.action_map_and_retry()
        self.assertEqual(message.state, "exception")

    def test_batch_backend_validates_pending_consumptions_per_location(self):
        self.supply_backend.latency_tier = "batch"
        other = self.env["stock.location"].create(
            {"name": "CLINIC-N test", "usage": "internal", "location_id": self.stock_location.id}
        )
        self._map("location", "CLINIC-N", other)
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        self._put_in_stock(self.gloves, other, 100, "L2026-10")
        consumptions = self.env["integration.supply.consumption"]
        for external_id, location_code in (("B-1", "OR-2"), ("B-2", "OR-2"), ("B-3", "CLINIC-N")):
            message = self._process(
                sample("supply.consumed", id=external_id, location_code=location_code)
            )
            consumptions |= self._assert_done(message)
        self.assertEqual(set(consumptions.mapped("state")), {"pending"})
        self.assertFalse(consumptions.move_id)
        validated = self.env["integration.supply.consumption"]._cron_validate_pending()
        self.assertEqual(validated, 3)
        self.assertEqual(set(consumptions.mapped("state")), {"done"})
        self.assertEqual(set(consumptions.move_id.mapped("state")), {"done"})
        self.assertEqual(
            self.gloves.with_context(location=self.care_location.id).qty_available, 92.0
        )
        self.assertEqual(self.gloves.with_context(location=other.id).qty_available, 96.0)
        self.assertEqual(self.env["integration.supply.consumption"]._cron_validate_pending(), 0)

    def test_batch_cron_keeps_a_failing_location_pending_and_validates_the_others(self):
        self.supply_backend.latency_tier = "batch"
        broken = self.env["stock.location"].create(
            {"name": "CLINIC-N test", "usage": "internal", "location_id": self.stock_location.id}
        )
        self._map("location", "CLINIC-N", broken)
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        consumptions = self.env["integration.supply.consumption"]
        for external_id, location_code in (("F-1", "OR-2"), ("F-2", "CLINIC-N"), ("F-3", "OR-2")):
            consumptions |= self._assert_done(
                self._process(
                    sample("supply.consumed", id=external_id, location_code=location_code)
                )
            )
        # The location became a view after the events arrived: no stock may leave it.
        broken.usage = "view"
        cron = self.env.ref("integration_hub_supply.ir_cron_validate_pending_consumptions")
        with self.assertLogs(
            "odoo.addons.integration_hub_supply.models.integration_supply_consumption", "ERROR"
        ) as logs:
            cron.method_direct_trigger()
        self.assertIn("CLINIC-N test", logs.output[0])
        self.env.invalidate_all()
        by_name = {c.name: c for c in consumptions}
        self.assertEqual(
            {name: c.state for name, c in by_name.items()},
            {"F-1": "done", "F-2": "pending", "F-3": "done"},
        )
        self.assertFalse(by_name["F-2"].move_id, "the failed batch left no half-made move")
        self.assertEqual(
            self.gloves.with_context(location=self.care_location.id).qty_available, 92.0
        )
        # Once the location is fixed, the next run validates what waited.
        broken.usage = "internal"
        self._put_in_stock(self.gloves, broken, 10, "L2026-10")
        cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(by_name["F-2"].state, "done")
        self.assertEqual(self.gloves.with_context(location=broken.id).qty_available, 6.0)
