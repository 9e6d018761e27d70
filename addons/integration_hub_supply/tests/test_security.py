from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import SupplyCase, sample


@tagged("post_install", "-at_install")
class TestSupplySecurity(SupplyCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_supply()
        cls.users = {
            "employee": new_test_user(cls.env, "supply_employee", groups="base.group_user"),
            "stock_user": new_test_user(cls.env, "supply_stock", groups="stock.group_stock_user"),
            "integration_user": new_test_user(
                cls.env, "supply_integration", groups="integration_hub.integration_hub_group_user"
            ),
            "integration_manager": new_test_user(
                cls.env,
                "supply_integration_manager",
                groups="integration_hub.integration_hub_group_manager",
            ),
        }

    def test_who_reads_the_consumption_log_and_the_decisions(self):
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        consumption = self._assert_done(self._process(sample("supply.consumed")))
        expected = {
            "employee": False,
            "stock_user": True,
            "integration_user": True,
            "integration_manager": True,
        }
        for login, allowed in expected.items():
            user = self.users[login]
            for model in ("integration.supply.consumption", "integration.supply.replenishment"):
                with self.subTest(user=login, model=model):
                    if allowed:
                        self.env[model].with_user(user).check_access("read")
                    else:
                        with self.assertRaises(AccessError):
                            self.env[model].with_user(user).check_access("read")
            if allowed:
                self.assertEqual(consumption.with_user(user).read(["name"])[0]["name"], "CON-70001")
        with self.assertRaises(AccessError):
            consumption.with_user(self.users["integration_user"]).write({"quantity": 1})

    def test_the_consumption_log_opens_for_each_role_that_reads_it(self):
        """The list and the form as the web client loads them: a stock user reads the
        log without the stock valuation, which Odoo keeps for Inventory administrators."""
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        consumption = self._assert_done(self._process(sample("supply.consumed")))
        shown = {}
        for login in ("stock_user", "integration_user", "integration_manager"):
            model = self.env["integration.supply.consumption"].with_user(self.users[login])
            for view_type in ("list", "form"):
                views = model.get_views([(False, view_type)])
                names = list(views["models"][model._name]["fields"])
                with self.subTest(user=login, view=view_type):
                    record = model.browse(consumption.id).read(names)[0]
                shown[login] = record.get("value")
        self.assertEqual(
            shown, {"stock_user": None, "integration_user": 1.0, "integration_manager": 1.0}
        )

    def test_stock_users_and_managers_map_supply_codes_others_cannot(self):
        message = self._process(sample("supply.consumed", item_code="SKU-NEW"))
        exception = message.exception_ids
        wizards = self.env["integration.code.map.wizard"]
        with self.assertRaises(AccessError):
            wizards.with_user(self.users["integration_user"]).create(
                {"exception_id": exception.id, "res_id": self.gloves.id}
            ).action_map_and_retry()
        self.assertEqual(message.state, "exception")
        wizard = wizards.with_user(self.users["stock_user"]).create(
            {"exception_id": exception.id, "res_id": self.gloves.id}
        )
        wizard.action_map_and_retry()
        self.assertEqual(message.state, "queued")

    def test_consumptions_of_another_company_are_not_visible(self):
        self._put_in_stock(self.gloves, self.care_location, 100, "L2026-10")
        consumption = self._assert_done(self._process(sample("supply.consumed")))
        other_company = self.env["res.company"].create({"name": "Other clinic network"})
        outsider = new_test_user(
            self.env,
            "supply_outsider",
            groups="stock.group_stock_user",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        self.assertFalse(
            self.env["integration.supply.consumption"]
            .with_user(outsider)
            .search([("id", "=", consumption.id)])
        )
