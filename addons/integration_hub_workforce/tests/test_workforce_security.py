from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import WorkforceCase


@tagged("post_install", "-at_install")
class TestWorkforceSecurity(WorkforceCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_workforce()
        cls.users = {
            "employee": new_test_user(cls.env, "wf_employee", groups="base.group_user"),
            "hr_officer": new_test_user(cls.env, "wf_hr_officer", groups="hr.group_hr_user"),
            "hr_manager": new_test_user(cls.env, "wf_hr_manager", groups="hr.group_hr_manager"),
            "integration_user": new_test_user(
                cls.env, "wf_integration", groups="integration_hub.integration_hub_group_user"
            ),
        }

    def _can_read(self, user, model):
        try:
            self.env[model].with_user(user).check_access("read")
        except AccessError:
            return False
        return True

    def test_hr_users_see_the_report_not_the_hub_configuration(self):
        expected = {
            "employee": {"report": False, "configuration": False},
            "hr_officer": {"report": True, "configuration": False},
            "hr_manager": {"report": True, "configuration": False},
            "integration_user": {"report": True, "configuration": True},
        }
        # HR officers also read the workforce flow's messages and exceptions (record
        # rules keep other flows out: see integration_hub_demo's access matrix).
        report_models = (
            "integration.workforce.report",
            "integration.workforce.gap",
            "integration.message",
            "integration.exception",
        )
        configuration_models = (
            "integration.backend",
            "integration.endpoint",
            "integration.code.map",
            "integration.workforce.link",
        )
        for login, allowed in expected.items():
            user = self.users[login]
            for model in report_models:
                with self.subTest(user=login, model=model):
                    self.assertEqual(self._can_read(user, model), allowed["report"])
            for model in configuration_models:
                with self.subTest(user=login, model=model):
                    self.assertEqual(self._can_read(user, model), allowed["configuration"])
        menu = self.env.ref("integration_hub_workforce.integration_workforce_report_menu")
        self.assertIn(menu, self.env["ir.ui.menu"].with_user(self.users["hr_officer"]).search([]))

    def test_nobody_writes_the_report(self):
        for login in ("hr_manager", "integration_user"):
            with self.subTest(user=login), self.assertRaises(AccessError):
                self.env["integration.workforce.report"].with_user(self.users[login]).check_access(
                    "write"
                )
