import copy
import json
import pathlib

from odoo import Command

from odoo.addons.integration_hub.tests.common import IntegrationHubCase

SAMPLES = (
    pathlib.Path(__file__).resolve().parents[2] / "integration_hub_demo" / "samples" / "events"
)


def sample(event_type, **data):
    """The shared sample of ``event_type`` with ``data`` keys replaced."""
    event = json.loads((SAMPLES / f"{event_type}.json").read_text())
    event = copy.deepcopy(event)
    event["data"].update(data)
    return event


class SupplyCase(IntegrationHubCase):
    """A supplier backend, its endpoint for every supply event type, a gloves product
    (AVCO, lot-tracked, critical), a vendor, two stock locations and their code maps."""

    @classmethod
    def _setup_supply(cls):
        cls._setup_hub()
        cls.company = cls.env.company
        cls.supply_types = cls._flow_event_types("integration_hub_supply")
        cls.supply_backend = cls._create_backend(name="Test supplier", system_type="supplier")
        cls.supply_endpoint = cls._create_endpoint(
            cls.supply_backend,
            name="Test supply",
            event_type_ids=[Command.set(cls.supply_types.ids)],
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.care_location = cls.env["stock.location"].create(
            {"name": "OR-2 test", "usage": "internal", "location_id": cls.stock_location.id}
        )
        cls.unit = cls.env.ref("uom.product_uom_unit")
        category = cls.env["product.category"].create(
            {"name": "Test consumables", "property_cost_method": "average"}
        )
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Harbor Test Distribution", "is_company": True, "supplier_rank": 1}
        )
        cls.gloves = cls.env["product.product"].create(
            {
                "name": "Test gloves",
                "type": "consu",
                "is_storable": True,
                "categ_id": category.id,
                "standard_price": 0.25,
                "tracking": "lot",
                "integration_critical": True,
                "seller_ids": [Command.create({"partner_id": cls.vendor.id, "price": 0.2})],
            }
        )
        for kind, code, record in (
            ("item", "SKU-GLOVE-M", cls.gloves),
            ("uom", "Units", cls.unit),
            ("location", "OR-2", cls.care_location),
            ("location", "WH-MAIN", cls.stock_location),
            ("department", "SURG", cls.warehouse),
        ):
            cls._map(kind, code, record)
        cls._bind(cls.vendor, "SUP-MEDLINE")

    @classmethod
    def _map(cls, kind, code, record, backend=None):
        return cls.env["integration.code.map"].create(
            {
                "backend_id": (backend or cls.supply_backend).id,
                "kind": kind,
                "external_code": code,
                "record_ref": f"{record._name},{record.id}",
            }
        )

    @classmethod
    def _bind(cls, record, external_id, backend=None):
        return cls.env["integration.binding"]._bind(
            backend or cls.supply_backend, external_id, record
        )

    @classmethod
    def _supply_message(cls, event, endpoint=None):
        """A stored, queued inbound supply message, as the webhook controller leaves it:
        stored in the name of the hub's service user (superuser mode, as the controller
        does), so its job runs as that user, whose groups still decide what computed
        fields (stock quantities) may read."""
        endpoint = endpoint or cls.supply_endpoint
        service_env = cls.env(user=cls.env.ref("integration_hub.user_integration_hub"), su=True)
        return cls._store_event(event, endpoint, env=service_env).with_env(cls.env)

    def _process(self, event, endpoint=None):
        message = self._supply_message(event, endpoint)
        self._perform_job(message)
        return message

    def _assert_done(self, message):
        self.assertEqual(message.state, "done", message.last_error)
        return self.env[message.result_model].browse(message.result_res_id)

    def _put_in_stock(self, product, location, quantity, lot_name=None):
        """Stock counted in by an inventory adjustment (valued at the product's cost)."""
        lot = (
            self.env["stock.lot"]._integration_find_or_create(product, lot_name, self.company)
            if lot_name
            else self.env["stock.lot"]
        )
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": product.id,
                    "location_id": location.id,
                    "lot_id": lot.id,
                    "inventory_quantity": quantity,
                }
            )
        )
        quant.action_apply_inventory()
        return lot
