import json

from odoo import Command
from odoo.tests import TransactionCase, tagged

from odoo.addons.integration_hub.tests.common import RealRequestsMixin

from .common import SupplyCase


@tagged("post_install", "-at_install")
class TestOutboundSupply(RealRequestsMixin, SupplyCase, TransactionCase):
    """purchase.order.confirmed delivered to the supplier's system."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()
        cls.receiver = cls._serve_outbound(cls.supply_backend, "/orders")
        cls.env["integration.subscription"].create(
            {
                "backend_id": cls.supply_backend.id,
                "event_type_id": cls.env.ref(
                    "integration_hub_supply.integration_event_type_purchase_order_confirmed_out"
                ).id,
                "filter_domain": f"[('partner_id', '=', {cls.vendor.id})]",
            }
        )

    def _order(self, vendor=None):
        return self.env["purchase.order"].create(
            {
                "partner_id": (vendor or self.vendor).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.gloves.id,
                            "product_qty": 500,
                            "price_unit": 0.2,
                            "date_planned": "2026-12-01 12:00:00",
                        }
                    )
                ],
            }
        )

    def _confirmed_messages(self):
        return self.env["integration.message"].search(
            [("direction", "=", "out"), ("event_type", "=", "purchase.order.confirmed")]
        )

    def test_a_confirmed_order_reaches_the_supplier_in_its_own_codes(self):
        order = self._order()
        self._end_transaction()
        self.assertFalse(self._confirmed_messages(), "a draft order is not sent")
        order.button_confirm()
        self._end_transaction()
        message = self._confirmed_messages()
        self.assertEqual(message.result_res_id, order.id)
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        (sent,) = self.receiver.requests
        self.assertTrue(sent.verified)
        data = json.loads(sent.body)["data"]
        self.assertEqual(data["number"], order.name)
        self.assertEqual(data["supplier"]["external_id"], "SUP-MEDLINE")
        (line,) = data["lines"]
        self.assertEqual(
            (line["item_code"], line["quantity"], line["unit_price"], line["subtotal"]),
            ("SKU-GLOVE-M", "500.00", "0.20", "100.00"),
        )

    def test_another_vendors_order_is_not_sent_to_this_supplier(self):
        other = self.env["res.partner"].create({"name": "Other vendor", "supplier_rank": 1})
        self._order(other).button_confirm()
        self._end_transaction()
        self.assertFalse(self._confirmed_messages())
