from odoo.tests import HttpCase, tagged

from odoo.addons.integration_hub.tests.common import IntegrationHubCase

from .test_demo import SAMPLES, send_to_demo

# The master data first, then what uses it.
WORKFORCE_ORDER = (
    "cost_center.upserted",
    "department.upserted",
    "employee.upserted",
    "shift.worked",
    "employee.terminated",
)


@tagged("post_install", "-at_install")
class TestDemoWorkforce(IntegrationHubCase, HttpCase):
    def _send(self, event_type):
        body = (SAMPLES / f"{event_type}.json").read_bytes()
        message = send_to_demo(self, "demo-workforce", body)
        self.assertEqual(message.state, "done", f"{event_type}: {message.last_error}")
        return self.env[message.result_model].browse(message.result_res_id)

    def test_each_workforce_sample_as_it_is_succeeds_on_the_demo_endpoint(self):
        manager = self.env.ref("integration_hub_demo.hr_employee_emp3_demo")
        results = {}
        for event_type in WORKFORCE_ORDER:
            with self.subTest(event_type=event_type):
                results[event_type] = self._send(event_type)
        cost_center = results["cost_center.upserted"]
        department = results["department.upserted"]
        employee = results["employee.upserted"]
        self.assertEqual(cost_center.code, "CC-410")
        self.assertEqual(
            (
                department.integration_code,
                department.manager_id,
                department.integration_cost_center_id,
            ),
            ("SURG", manager, cost_center),
        )
        self.assertEqual((employee.department_id, employee.parent_id), (department, manager))
        self.assertEqual(results["shift.worked"].unit_amount, 8.5)
        self.assertEqual(results["employee.terminated"], employee)
        self.assertEqual(
            str(employee.integration_termination_date or employee.departure_date), "2026-12-31"
        )
