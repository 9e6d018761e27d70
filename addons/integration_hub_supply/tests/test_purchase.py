from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestPurchase(SupplyCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()

    def _order(self, quantity=500):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.gloves.id,
                            "product_qty": quantity,
                            "date_planned": "2026-12-01 12:00:00",
                        }
                    )
                ],
            }
        )
        order.button_confirm()
        return order

    def _ack(self, order, status, lines=None):
        event = sample("supplier.acknowledged", purchase_order_ref=order.name, status=status)
        if lines is not None:
            event["data"]["lines"] = lines
        return self._process(event)

    def test_purchase_request_makes_a_draft_order_for_approval(self):
        message = self._process(sample("purchase.requested"))
        order = self._assert_done(message)
        line = order.order_line
        self.assertEqual(
            (
                order.state,
                order.partner_id,
                order.origin,
                order.picking_type_id,
                line.product_id,
                line.product_qty,
                line.product_uom,
                line.price_unit,
                str(line.date_planned.date()),
            ),
            (
                "draft",
                self.vendor,
                "PR-2201",
                self.warehouse.in_type_id,
                self.gloves,
                500.0,
                self.unit,
                0.2,
                "2026-12-01",
            ),
        )
        self.assertIn("EMP-12", str(order.notes))

    def test_purchase_request_replayed_or_resent_adds_no_line(self):
        event = sample("purchase.requested")
        message = self._process(event)
        order = self._assert_done(message)
        message.action_replay()
        self._perform_job(message)
        self._assert_done(self._process(event))
        self.assertEqual(len(order.order_line), 1)
        self.assertEqual(self.env["purchase.order"].search_count([("origin", "=", "PR-2201")]), 1)
        # A new line of the same request joins the same order.
        event["data"]["lines"].append(
            {"line_id": "PR-2201-2", "item_code": "SKU-GLOVE-M", "quantity": "20"}
        )
        self.assertEqual(self._assert_done(self._process(event)), order)
        self.assertEqual(order.order_line.mapped("product_qty"), [500.0, 20.0])

    def test_purchase_request_for_item_without_vendor_is_unknown_record(self):
        self.gloves.seller_ids.unlink()
        message = self._process(sample("purchase.requested"))
        self.assertEqual(message.exception_ids.kind, "unknown_record")
        self.assertIn("has no vendor", message.last_error)
        self.assertFalse(self.env["purchase.order"].search([("origin", "=", "PR-2201")]))

    def test_unmapped_department_opens_map_and_retry(self):
        message = self._process(sample("purchase.requested", department_code="ICU"))
        exception = message.exception_ids
        self.assertEqual(
            (exception.code_kind_id.code, exception.external_code), ("department", "ICU")
        )

    def test_rejected_acknowledgement_is_recorded_and_opens_an_exception_for_a_buyer(self):
        order = self._order()
        message = self._ack(order, "rejected", lines=[])
        self.assertEqual(self._assert_done(message), order)
        self.assertEqual(
            (
                order.integration_ack_ref,
                order.integration_ack_state,
                order.order_line.integration_ack_state,
            ),
            ("ACK-881", "rejected", "rejected"),
        )
        exception = message.exception_ids
        self.assertEqual(
            (exception.kind, exception.state, exception.follow_up),
            ("supplier_rejected", "open", True),
        )
        self.assertIn(
            f"{order.name}: Harbor Test Distribution rejected 500.0", exception.explanation
        )
        self.assertEqual((exception.res_model, exception.res_id), ("purchase.order", order.id))
        self.assertEqual(exception.record_name, order.name)
        # The buyer's exception stays open when the message is replayed, and is not doubled.
        message.action_replay()
        self._perform_job(message)
        self._assert_done(message)
        self.assertEqual(message.exception_ids, exception)
        self.assertIn(exception.state, ("open", "in_progress"))
        self.assertEqual(order.state, "purchase")
        # The buyer settles it: resolved in their name, the message stays done.
        buyer = new_test_user(self.env, "ack_buyer", groups="stock.group_stock_user")
        exception.with_user(buyer).action_mark_resolved()
        self.assertEqual(
            (exception.state, exception.resolved_by_id, message.state),
            ("resolved", buyer, "done"),
        )
        with self.assertRaises(UserError):
            exception.with_user(buyer).action_mark_resolved()

    def test_changed_acknowledgement_records_quantity_and_date(self):
        order = self._order()
        message = self._ack(order, "changed")
        self._assert_done(message)
        line = order.order_line
        self.assertEqual(
            (
                line.integration_ack_state,
                line.integration_ack_qty,
                str(line.integration_ack_date),
                line.product_qty,
            ),
            ("changed", 400.0, "2026-12-03", 500.0),
        )
        self.assertEqual(message.exception_ids.kind, "supplier_changed")
        self.assertIn("500.0 ordered, 400.0 confirmed", message.exception_ids.explanation)

    def test_accepted_acknowledgement_opens_nothing(self):
        order = self._order()
        message = self._ack(
            order, "changed", lines=[{"item_code": "SKU-GLOVE-M", "quantity": "500"}]
        )
        self._assert_done(message)
        self.assertEqual(order.order_line.integration_ack_state, "accepted")
        self.assertFalse(message.exception_ids)

    def test_acknowledgement_of_another_suppliers_order_is_a_conflict(self):
        other = self.env["res.partner"].create({"name": "Other vendor"})
        self._bind(other, "SUP-OTHER")
        order = self._order()
        event = sample(
            "supplier.acknowledged", purchase_order_ref=order.name, supplier_id="SUP-OTHER"
        )
        message = self._process(event)
        self.assertEqual(message.exception_ids.kind, "conflict")
        self.assertFalse(order.order_line.integration_ack_state)

    def test_acknowledgement_of_unknown_order_is_unknown_record(self):
        message = self._process(sample("supplier.acknowledged", purchase_order_ref="P-NOPE"))
        self.assertEqual(message.exception_ids.kind, "unknown_record")
        self.assertIn("'P-NOPE' does not exist", message.last_error)
