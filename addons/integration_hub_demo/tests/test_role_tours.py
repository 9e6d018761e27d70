import base64
import copy
import json
import pathlib
import re

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase
from odoo.addons.queue_job.job import Job

from .test_demo import SAMPLES, send_to_demo
from .test_demo_billing import BILLING_SAMPLES
from .test_demo_supply import SUPPLY_ORDER
from .test_demo_workforce import WORKFORCE_ORDER

TOURS = pathlib.Path(__file__).resolve().parent.parent / "static" / "tests" / "tours"
# Seconds for a whole role tour (see _walk).
TOUR_TIMEOUT = 600


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
        cls.finance_user = cls._tour_user(
            "finance_tour", "Finance Clerk", "account.group_account_invoice"
        )
        cls.stock_user = cls._tour_user("stock_tour", "Stock Clerk", "stock.group_stock_user")
        cls.hub_user = cls._tour_user(
            "hub_tour", "Hub Operator", "integration_hub.integration_hub_group_user"
        )
        cls.env["integration.team"].create(
            {"name": "Tour billing desk", "member_ids": [(6, 0, cls.finance_user.ids)]}
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

    @classmethod
    def _tour_user(cls, login, name, group):
        """An employee of ``group`` without an e-mail address; the password is the login
        (the tour logs in with it)."""
        return new_test_user(
            cls.env,
            login=login,
            password=login,
            name=name,
            email=False,
            groups=f"base.group_user,{group}",
        )

    def _walk(self, tour, login):
        """Run ``tour`` as ``login``. A role tour is well over a hundred steps: on a loaded
        machine it outlasts start_tour's default 60 s for the whole tour, which then ends
        between two steps ("Script timeout exceeded"), e.g. while an action's call is
        under way; each step keeps its own timeout."""
        self.start_tour("/odoo", tour, login=login, timeout=TOUR_TIMEOUT)

    def _send(self, token, event):
        body = json.dumps(event).encode()
        return send_to_demo(self, token, body)

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
        self._walk("integration_hub_admin_every_menu", "admin")

    def test_integrations_user_without_email_opens_the_overview_messages_and_exceptions(self):
        self._demo_traffic()
        self._walk("integration_hub_user_every_menu", "hub_tour")

    def _assert_mapped_and_resolved_by(self, user, message, code, record):
        """After the tour: ``user`` took the exception of ``message``, mapped ``code`` to
        ``record`` and retried; the job runner then processes the message, which resolves
        the exception in ``user``'s name."""
        self.env.invalidate_all()
        exception = message.exception_ids
        self.assertEqual(
            (exception.state, exception.user_id, exception.retry_user_id, message.state),
            ("in_progress", user, user, "queued"),
        )
        self.assertEqual(self._mapped(code), record)
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual((exception.state, exception.resolved_by_id), ("resolved", user))

    def test_invoicing_user_without_email_walks_billing_menus_and_maps_a_service_code(self):
        charge, _consumption = self._demo_traffic()
        self._walk("integration_hub_finance_every_menu", "finance_tour")
        self.env.invalidate_all()
        # The charge that needs review, approved by the clerk in the browser: past its
        # rule, queued again.
        review = self.review.exception_ids
        self.assertEqual(
            (review.state, review.approved_by_id, self.review.state),
            ("in_progress", self.finance_user, "queued"),
        )
        self.assertEqual(self.review.review_bypass_rule_ids, review.review_rule_id)
        # The job runner's turn (same encounter: the charge under review comes second).
        self._assert_mapped_and_resolved_by(self.finance_user, charge, "TOUR-SVC", self.tour_visit)
        self._perform_job(self.review)
        self.assertEqual(self.review.state, "done", self.review.last_error)
        self.assertEqual(review.state, "resolved")

    def test_stock_user_without_email_walks_supply_menus_and_maps_an_item(self):
        _charge, consumption = self._demo_traffic()
        self._walk("integration_hub_stock_every_menu", "stock_tour")
        self._assert_mapped_and_resolved_by(
            self.stock_user, consumption, "TOUR-SKU", self.tour_gloves
        )
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
