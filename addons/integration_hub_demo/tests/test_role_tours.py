import base64
import copy
import json
import pathlib
import re

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase, signed_headers
from odoo.addons.queue_job.job import Job

from .test_demo import DEMO_SECRET, SAMPLES
from .test_demo_billing import BILLING_SAMPLES
from .test_demo_supply import SUPPLY_ORDER
from .test_demo_workforce import WORKFORCE_ORDER

TOURS = pathlib.Path(__file__).resolve().parent.parent / "static" / "tests" / "tours"


def _sample(event_type, **data):
    event = json.loads((SAMPLES / f"{event_type}.json").read_text())
    event = copy.deepcopy(event)
    event["data"].update(data)
    return event


@tagged("post_install", "-at_install")
class TestRoleTours(IntegrationHubCase, HttpCase):
    """An administrator, an Integrations user, an Invoicing-only user and a stock user (the
    last three without an e-mail address) walk every menu of the hub they can see in a
    real browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.finance_user = new_test_user(
            cls.env,
            login="finance_tour",
            password="finance_tour",
            name="Finance Clerk",
            email=False,
            groups="base.group_user,account.group_account_invoice",
        )
        cls.stock_user = new_test_user(
            cls.env,
            login="stock_tour",
            password="stock_tour",
            name="Stock Clerk",
            email=False,
            groups="base.group_user,stock.group_stock_user",
        )
        cls.hub_user = new_test_user(
            cls.env,
            login="hub_tour",
            password="hub_tour",
            name="Hub Operator",
            email=False,
            groups="base.group_user,integration_hub.integration_hub_group_user",
        )
        cls.tour_visit = cls.env["product.product"].create(
            {"name": "Tour visit", "type": "service", "sale_ok": True}
        )
        cls.tour_gloves = cls.env["product.product"].create(
            {"name": "Tour gloves", "is_storable": True}
        )
        billing = cls.env.ref("integration_hub_demo.integration_backend_billing_demo")
        contacts_out = cls.env.ref("integration_hub.integration_event_type_contact_upserted_out")
        cls.env["integration.subscription"].create(
            {"backend_id": billing.id, "event_type_id": contacts_out.id}
        )
        cls.env["integration.message.bulk.run"].create(
            {"operation": "replay", "selection_description": "Dead messages of the tour"}
        )
        endpoint = cls.env.ref("integration_hub_demo.integration_endpoint_billing_demo")
        cls.env["integration.feed"].create(
            {
                "name": "Tour feed",
                "endpoint_id": endpoint.id,
                "url": "http://127.0.0.1:9/changes",
                "active": True,
            }
        )
        cls.env["integration.import"].create(
            {
                "endpoint_id": endpoint.id,
                "event_type_id": cls.env.ref(
                    "integration_hub_billing.integration_event_type_patient_upserted"
                ).id,
                "file": base64.b64encode(b"id,name\nPAT-TOUR,Tour Patient\n"),
                "file_name": "patients.csv",
            }
        )

    def _send(self, token, event):
        body = json.dumps(event).encode()
        response = self.url_open(
            f"/integration/webhook/{token}",
            data=body,
            headers=signed_headers(body, secret=DEMO_SECRET),
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["integration.message"].browse(response.json()["id"])
        self._perform_job(message)
        return message

    def _mapped(self, code):
        return self.env["integration.code.map"].search([("external_code", "=", code)]).record_ref

    def _demo_traffic(self):
        """Every flow's samples, as setup/traffic.py sends them to the demo endpoints."""
        flows = (
            ("demo-contacts", ("contact.upserted",)),
            ("demo-billing", BILLING_SAMPLES),
            ("demo-supply", SUPPLY_ORDER),
            ("demo-workforce", WORKFORCE_ORDER),
        )
        for token, event_types in flows:
            for event_type in event_types:
                self._send(token, _sample(event_type))
        # The replenishment decisions wait on the critical channel.
        for job in self.env["queue.job"].search(
            [("channel", "=", "root.integration_critical"), ("state", "=", "pending")]
        ):
            Job.load(self.env, job.uuid).perform()
        charge = self._send(
            "demo-billing", _sample("charge.captured", id="CHG-TOUR", service_code="TOUR-SVC")
        )
        review = self._send(
            "demo-billing",
            _sample(
                "charge.captured",
                id="CHG-REVIEW",
                unit_price="6000.00",
                patient_share="0.00",
                payer_share="6000.00",
            ),
        )
        consumption = self._send(
            "demo-supply", _sample("supply.consumed", id="CON-TOUR", item_code="TOUR-SKU")
        )
        self.assertEqual(
            (charge.state, review.exception_ids.kind, consumption.state),
            ("exception", "review", "exception"),
        )
        self.review = review
        return charge, consumption

    def test_administrator_opens_every_menu_list_form_and_smart_button(self):
        self._demo_traffic()
        self.start_tour("/odoo", "integration_hub_admin_every_menu", login="admin")

    def test_integrations_user_without_email_opens_the_overview_messages_and_exceptions(self):
        self._demo_traffic()
        self.start_tour("/odoo", "integration_hub_user_every_menu", login="hub_tour")

    def test_invoicing_user_without_email_walks_billing_menus_and_maps_a_service_code(self):
        charge, _consumption = self._demo_traffic()
        self.start_tour("/odoo", "integration_hub_finance_every_menu", login="finance_tour")
        self.env.invalidate_all()
        exception = charge.exception_ids
        self.assertEqual(
            (exception.state, exception.user_id, exception.retry_user_id, charge.state),
            ("in_progress", self.finance_user, self.finance_user, "queued"),
        )
        self.assertEqual(self._mapped("TOUR-SVC"), self.tour_visit)
        # The job runner's turn.
        self._perform_job(charge)
        self.assertEqual(charge.state, "done", charge.last_error)
        self.assertEqual(
            (exception.state, exception.resolved_by_id), ("resolved", self.finance_user)
        )
        # The charge that needs review (same encounter: its turn comes after the first),
        # approved by the same clerk through the ORM: in the browser the confirmation of
        # "Approve and post" did not run the action yet.
        review = self.review.exception_ids
        review.with_user(self.finance_user).action_approve()
        self.assertEqual(
            (review.state, review.approved_by_id, self.review.state),
            ("in_progress", self.finance_user, "queued"),
        )
        self._perform_job(self.review)
        self.assertEqual(self.review.state, "done", self.review.last_error)
        self.assertEqual(review.state, "resolved")

    def test_stock_user_without_email_walks_supply_menus_and_maps_an_item(self):
        _charge, consumption = self._demo_traffic()
        self.start_tour("/odoo", "integration_hub_stock_every_menu", login="stock_tour")
        self.env.invalidate_all()
        exception = consumption.exception_ids
        self.assertEqual(
            (exception.state, exception.user_id, exception.retry_user_id, consumption.state),
            ("in_progress", self.stock_user, self.stock_user, "queued"),
        )
        self.assertEqual(self._mapped("TOUR-SKU"), self.tour_gloves)
        self._perform_job(consumption)
        self.assertEqual(consumption.state, "done", consumption.last_error)
        self.assertEqual((exception.state, exception.resolved_by_id), ("resolved", self.stock_user))
        result = self.env[consumption.result_model].browse(consumption.result_res_id)
        self.assertEqual(result.product_id, self.tour_gloves)

    def test_every_menu_of_the_suite_is_visited_by_a_tour(self):
        tours = "".join(path.read_text() for path in TOURS.glob("*.js"))
        named = set(re.findall(r'"(integration_hub\w*\.\w+)"', tours))
        menus = self.env["ir.model.data"].search(
            [("model", "=", "ir.ui.menu"), ("module", "=like", "integration_hub%")]
        )
        missing = sorted(
            f"{data.module}.{data.name}"
            for data in menus
            if f"{data.module}.{data.name}" not in named
        )
        self.assertFalse(missing, f"Menus no role tour visits: {missing}")
