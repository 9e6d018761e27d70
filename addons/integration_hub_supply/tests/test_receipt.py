from odoo import Command
from odoo.tests import TransactionCase, tagged

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestReceipt(SupplyCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()

    def setUp(self):
        super().setUp()
        self.order = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.gloves.id, "product_qty": 500, "price_unit": 0.2}
                    )
                ],
            }
        )
        self.order.button_confirm()
        self.receipt = self.order.picking_ids

    def _asn(self, **data):
        return self._process(sample("asn.received", purchase_order_ref=self.order.name, **data))

    def test_asn_prepares_the_receipt_then_short_delivery_validates_with_backorder(self):
        asn = self._asn()
        self.assertEqual(self._assert_done(asn), self.receipt)
        line = self.receipt.move_line_ids
        self.assertEqual(
            (line.quantity, line.integration_asn_qty, line.lot_id.name, self.receipt.state),
            (400.0, 400.0, "L2026-11", "assigned"),
        )
        self.assertEqual(str(self.receipt.scheduled_date.date()), "2026-12-03")
        goods = self._process(sample("goods.received"))
        self.assertEqual(self._assert_done(goods), self.receipt)
        self.assertEqual(self.receipt.state, "done")
        self.assertEqual(self.receipt.move_ids.quantity, 390.0)
        self.assertEqual(str(self.receipt.date_done), "2026-12-03 14:10:00")
        self.assertEqual(self.order.order_line.qty_received, 390.0)
        self.assertEqual(
            self.gloves.with_context(location=self.stock_location.id).qty_available, 390.0
        )
        backorder = self.env["stock.picking"].search([("backorder_id", "=", self.receipt.id)])
        self.assertEqual(backorder.move_ids.product_uom_qty, 110.0)
        exception = goods.exception_ids
        self.assertEqual((exception.kind, exception.state), ("quantity_mismatch", "open"))
        lot = self.receipt.move_line_ids.lot_id
        self.assertEqual(len(lot), 1)
        self.assertIn(
            f"{self.gloves.display_name} ({lot.name}): 400.0 Units announced, 390.0 received",
            exception.explanation,
        )
        self.assertIn(backorder.name, exception.explanation)
        self.assertEqual(
            (exception.res_model, exception.res_id), ("stock.picking", self.receipt.id)
        )

    def test_order_numbered_like_the_suppliers_later_does_not_take_its_events(self):
        """The demo's failure: the acknowledgement found the confirmed order, then Odoo
        gave a new draft the same number; the ASN must still find the confirmed one."""
        ack = self._process(
            sample("supplier.acknowledged", purchase_order_ref=self.order.name, status="accepted")
        )
        self.assertEqual(self._assert_done(ack), self.order)
        self.assertEqual(
            self.env["integration.binding"]._to_internal(
                self.supply_backend, "purchase.order", self.order.name
            ),
            self.order,
        )
        homonym = self.env["purchase.order"].create(
            {"partner_id": self.vendor.id, "name": self.order.name}
        )
        self.assertEqual(homonym.state, "draft")
        self.assertEqual(self._assert_done(self._asn()), self.receipt)
        self.assertEqual(self._assert_done(self._process(sample("goods.received"))), self.receipt)
        self.assertEqual(self.receipt.state, "done")
        self.assertFalse(homonym.picking_ids)

    def test_two_orders_with_the_suppliers_number_and_no_binding_is_a_conflict(self):
        homonym = self.env["purchase.order"].create(
            {"partner_id": self.vendor.id, "name": self.order.name}
        )
        message = self._asn()
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual(exception.kind, "conflict")
        self.assertIn(
            f"2 purchase orders of {self.company.name} are numbered", exception.explanation
        )
        self.assertFalse(self.receipt.move_line_ids.filtered("integration_asn_qty"))
        self.assertFalse(
            self.env["integration.binding"]._to_internal(
                self.supply_backend, "purchase.order", self.order.name
            )
        )
        # The buyer renames the draft and retries: the confirmed order gets the ASN.
        homonym.name = f"{self.order.name}-DRAFT"
        message.action_replay()
        self._perform_job(message)
        self.assertEqual(self._assert_done(message), self.receipt)

    def test_asn_and_goods_replayed_make_no_second_line_or_receipt(self):
        asn = self._asn()
        asn.action_replay()
        self._perform_job(asn)
        self._asn()
        self.assertEqual(len(self.receipt.move_line_ids), 1)
        self.assertEqual(self.receipt.move_line_ids.quantity, 400.0)
        event = sample("goods.received")
        goods = self._process(event)
        goods.action_replay()
        self._perform_job(goods)
        again = self._process(event)
        self.assertEqual(self._assert_done(again), self.receipt)
        self.assertEqual(self.order.order_line.qty_received, 390.0)
        self.assertEqual(
            self.env["stock.picking"].search_count([("backorder_id", "=", self.receipt.id)]), 1
        )
        self.assertEqual(len(goods.exception_ids), 1)
        self.assertFalse(again.exception_ids)

    def test_full_delivery_opens_no_exception(self):
        self._asn()
        event = sample("goods.received")
        event["data"]["lines"][0]["quantity"] = "400"
        goods = self._process(event)
        self._assert_done(goods)
        self.assertFalse(goods.exception_ids)

    def test_goods_before_their_asn_wait_then_become_an_exception(self):
        self.supply_backend.batch_size = 1  # the replayed message's own job, not a batch
        goods = self._process(sample("goods.received"))
        self.assertEqual(goods.state, "retrying")
        self.assertIn("has not been received", goods.last_error)
        self._perform_job(goods)
        self.assertEqual(goods.state, "retrying")
        # The backend's last attempt (max_attempts=3) hands it to a person.
        self._perform_job(goods)
        self.assertEqual(goods.state, "exception")
        self.assertEqual(goods.exception_ids.kind, "unknown_record")
        # The ASN arrives: the goods receipt is retried by itself and validates it.
        self._asn()
        self.assertEqual(goods.state, "queued")
        self._perform_job(goods)
        self.assertEqual(self._assert_done(goods), self.receipt)
        self.assertEqual(self.receipt.state, "done")

    def test_asn_for_an_unconfirmed_order_is_a_conflict(self):
        draft = self.env["purchase.order"].create({"partner_id": self.vendor.id})
        message = self._process(sample("asn.received", purchase_order_ref=draft.name))
        self.assertEqual(message.exception_ids.kind, "conflict")
        self.assertIn("is not confirmed", message.last_error)

    def test_asn_with_an_item_not_on_the_order_is_a_conflict(self):
        other = self.env["product.product"].create(
            {"name": "Gauze", "type": "consu", "is_storable": True}
        )
        self._map("item", "SKU-GAUZE", other)
        event = sample("asn.received", purchase_order_ref=self.order.name)
        event["data"]["lines"][0]["item_code"] = "SKU-GAUZE"
        message = self._process(event)
        self.assertEqual(message.exception_ids.kind, "conflict")
        self.assertIn("is not on receipt", message.last_error)
        self.assertFalse(self.receipt.move_line_ids.filtered("integration_asn_qty"))
