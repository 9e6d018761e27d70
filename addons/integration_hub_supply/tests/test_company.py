from odoo import Command
from odoo.tests import TransactionCase, tagged

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestSupplySecondCompany(SupplyCase, TransactionCase):
    """A supplier backend of a second company works in that company's stock only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()
        cls.company_2 = cls.env["res.company"].create({"name": "Southside clinic group"})
        cls.backend_2 = cls._create_backend(
            name="Southside supplier", system_type="supplier", company_id=cls.company_2.id
        )
        cls.endpoint_2 = cls._create_endpoint(
            cls.backend_2,
            name="Southside supply",
            event_type_ids=[Command.set(cls.supply_types.ids)],
        )
        cls.warehouse_2 = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company_2.id)], limit=1
        )
        cls.care_location_2 = cls.env["stock.location"].create(
            {
                "name": "OR-2 southside",
                "usage": "internal",
                "location_id": cls.warehouse_2.lot_stock_id.id,
                "company_id": cls.company_2.id,
            }
        )
        for kind, code, record in (
            ("item", "SKU-GLOVE-M", cls.gloves),
            ("uom", "Units", cls.unit),
            ("location", "OR-2", cls.care_location_2),
            ("department", "SURG", cls.warehouse_2),
        ):
            cls._map(kind, code, record, backend=cls.backend_2)

    def _put_in_company_stock(self, location, quantity, company):
        lot = self.env["stock.lot"]._integration_find_or_create(self.gloves, "L2026-10", company)
        quant = (
            self.env["stock.quant"]
            .with_company(company)
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": self.gloves.id,
                    "location_id": location.id,
                    "lot_id": lot.id,
                    "inventory_quantity": quantity,
                }
            )
        )
        quant.action_apply_inventory()
        return lot

    def _qty(self, location):
        return self.gloves.with_context(location=location.id).qty_available

    def test_consumption_moves_the_second_company_stock_only(self):
        self._put_in_company_stock(self.care_location, 100, self.company)
        lot_2 = self._put_in_company_stock(self.care_location_2, 50, self.company_2)
        message = self._process(sample("supply.consumed", id="S2-1"), endpoint=self.endpoint_2)
        consumption = self._assert_done(message)
        move = consumption.move_id
        self.assertEqual(message.company_id, self.company_2)
        self.assertEqual(
            (consumption.company_id, move.company_id, move.state),
            (self.company_2, self.company_2, "done"),
        )
        self.assertEqual(move.location_id, self.care_location_2)
        self.assertEqual(move.location_dest_id.company_id, self.company_2)
        self.assertEqual(move.move_line_ids.lot_id, lot_2)
        self.assertEqual(lot_2.company_id, self.company_2)
        self.assertEqual(move.stock_valuation_layer_ids.company_id, self.company_2)
        self.assertEqual(self._qty(self.care_location_2), 46.0)
        self.assertEqual(self._qty(self.care_location), 100.0, "the first company is untouched")
        # The same external id at the first company's backend is another consumption.
        first = self._assert_done(self._process(sample("supply.consumed", id="S2-1")))
        self.assertEqual(first.company_id, self.company)
        self.assertEqual(self._qty(self.care_location), 96.0)
        self.assertEqual(self._qty(self.care_location_2), 46.0)

    def test_location_of_another_company_is_never_moved(self):
        self._put_in_company_stock(self.care_location, 100, self.company)
        self._map("location", "CLINIC-N", self.care_location, backend=self.backend_2)
        message = self._process(
            sample("supply.consumed", id="S2-2", location_code="CLINIC-N"), endpoint=self.endpoint_2
        )
        self.assertIn(message.state, ("exception", "dead"), message.last_error)
        self.assertEqual(self._qty(self.care_location), 100.0)
        self.assertFalse(
            self.env["integration.supply.consumption"].search([("name", "=", "S2-2")]).move_id
        )
