from odoo.tests import TransactionCase, tagged

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestCatalog(SupplyCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()

    def test_item_upserted_creates_then_updates_one_bound_product(self):
        event = sample("item.upserted", id="SKU-MASK-1", barcode="4006381333931")
        product = self._assert_done(self._process(event))
        self.assertEqual(
            (
                product.name,
                product.is_storable,
                product.uom_id,
                product.tracking,
                product.integration_critical,
                product.categ_id.name,
                product.barcode,
                product.default_code,
            ),
            (
                "Nitrile examination gloves, medium",
                True,
                self.unit,
                "lot",
                True,
                "Medical consumables",
                "4006381333931",
                "SKU-MASK-1",
            ),
        )
        newer = sample(
            "item.upserted",
            id="SKU-MASK-1",
            name="Surgical mask",
            critical=False,
            barcode="4006381333931",
            updated_at="2026-11-21T10:00:00Z",
        )
        self.assertEqual(self._assert_done(self._process(newer)), product)
        self.assertEqual((product.name, product.integration_critical), ("Surgical mask", False))
        # An older update arriving late changes nothing.
        self._assert_done(self._process(sample("item.upserted", id="SKU-MASK-1", name="Old")))
        self.assertEqual(product.name, "Surgical mask")
        self.assertEqual(
            self.env["product.product"].search_count([("default_code", "=", "SKU-MASK-1")]), 1
        )

    def test_item_with_another_products_barcode_is_a_conflict(self):
        self.gloves.barcode = "0123456789012"
        message = self._process(sample("item.upserted", id="SKU-OTHER"))
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids.kind, "conflict")
        self.assertIn("already belongs to Test gloves", message.exception_ids.explanation)

    def test_item_with_unmapped_unit_opens_unmapped_code_exception(self):
        message = self._process(sample("item.upserted", id="SKU-BOX", uom="Box of 50"))
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual(
            (exception.kind, exception.code_kind_id.code, exception.external_code),
            ("unmapped_code", "uom", "Box of 50"),
        )

    def test_supplier_then_catalog_sets_vendor_price_once(self):
        supplier = self._assert_done(self._process(sample("supplier.upserted", id="SUP-NEW")))
        self.assertEqual(
            (supplier.name, supplier.email, supplier.country_id.code, supplier.supplier_rank),
            ("Harbor Medical Distribution", "orders@harbormed.example", "US", 1),
        )
        event = sample("catalog.price_updated", supplier_id="SUP-NEW")
        first = self._process(event)
        price = self._assert_done(first)
        self.assertEqual(
            (
                price.partner_id,
                price.product_id,
                price.price,
                price.min_qty,
                price.delay,
                price.product_code,
                str(price.date_start),
            ),
            (supplier, self.gloves, 0.09, 100.0, 3, "HM-44102", "2026-12-01"),
        )
        first.action_replay()
        self._perform_job(first)
        self._assert_done(self._process(event))
        self.assertEqual(
            self.env["product.supplierinfo"].search_count(
                [("partner_id", "=", supplier.id), ("product_id", "=", self.gloves.id)]
            ),
            1,
        )

    def test_catalog_price_that_is_not_a_number_is_a_business_error(self):
        event = sample("catalog.price_updated")
        event["data"]["lines"][0]["price"] = "0,09 USD"
        message = self._process(event)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids.kind, "validation")
        self.assertIn("lines/1/price: '0,09 USD' is not a decimal number", message.last_error)
        self.assertFalse(
            self.env["product.supplierinfo"].search([("product_code", "=", "HM-44102")])
        )

    def test_catalog_of_unknown_supplier_is_unknown_record(self):
        message = self._process(sample("catalog.price_updated", supplier_id="SUP-NOBODY"))
        self.assertEqual(message.exception_ids.kind, "unknown_record")
        self.assertIn("SUP-NOBODY", message.last_error)
