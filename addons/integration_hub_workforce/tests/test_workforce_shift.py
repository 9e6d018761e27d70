from odoo.tests import HttpCase, tagged

from .common import WorkforceCase, sample


@tagged("post_install", "-at_install")
class TestWorkforceShift(WorkforceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_workforce()

    def setUp(self):
        super().setUp()
        self._done(sample("cost_center.upserted"))
        self._done(sample("department.upserted"))
        self.employee = self._done(sample("employee.upserted"))
        self.employee.hourly_cost = 42.0
        self.cost_center = self._bound("account.analytic.account", "CC-410")

    def test_shift_is_an_analytic_line_costed_at_the_hourly_cost(self):
        line = self._done(sample("shift.worked"))
        self.assertEqual(line._name, "account.analytic.line")
        self.assertEqual(str(line.date), "2026-11-20")
        self.assertEqual(line.unit_amount, 8.5)
        self.assertEqual(line.amount, -357.0)  # 8.50 h at 42.00
        self.assertEqual(line.integration_employee_id, self.employee)
        self.assertEqual(line.integration_cost_center_id, self.cost_center)
        plan_column = self.cost_center.plan_id._column_name()
        self.assertEqual(line[plan_column], self.cost_center)
        self.assertEqual(line.integration_department_id.integration_code, "SURG")

    def test_replayed_shift_adds_nothing_and_a_correction_updates_it(self):
        line = self._done(sample("shift.worked"))
        replay = self._done(sample("shift.worked"))
        self.assertEqual(replay, line)
        corrected = self._done(
            sample("shift.worked", hours="7.25", updated_at="2026-11-22T06:00:00Z")
        )
        self.assertEqual(corrected, line)
        self.assertEqual((line.unit_amount, line.amount), (7.25, -304.5))
        stale = self._done(sample("shift.worked", hours="12.00", updated_at="2026-11-21T05:00:00Z"))
        self.assertEqual(stale, line)
        self.assertEqual(line.unit_amount, 7.25)
        self.assertEqual(
            self.env["account.analytic.line"].search_count(
                [("integration_employee_id", "=", self.employee.id)]
            ),
            1,
        )

    def test_shift_without_cost_centre_goes_to_the_employee_cost_centre(self):
        other = self._done(sample("cost_center.upserted", id="CC-500", code="CC-500", name="Wards"))
        self._done(
            sample(
                "employee.upserted", cost_center_code="CC-500", updated_at="2026-11-21T07:00:00Z"
            )
        )
        line = self._done(sample("shift.worked", cost_center_code=None))
        self.assertEqual(line.integration_cost_center_id, other)

    def test_hours_out_of_range_open_a_validation_exception(self):
        message = self._send(sample("shift.worked", hours="123456789.5"))
        self.assertEqual(message.state, "exception")
        self.assertIn("data/hours", message.exception_ids.explanation)

    def test_shift_of_an_unknown_employee_waits_and_is_done_when_the_employee_arrives(self):
        self.hr_backend.batch_size = 1  # the woken job itself, not a batch taking it
        message = self._send(sample("shift.worked", id="SHIFT-9", employee_id="EMP-77"))
        self.assertEqual(message.state, "retrying", message.last_error)
        gap = self.env["integration.workforce.gap"].search(
            [("kind", "=", "shift_unknown_employee"), ("message_id", "=", message.id)]
        )
        self.assertEqual(gap.external_ref, "EMP-77")
        newcomer = self._done(sample("employee.upserted", id="EMP-77", name="Alex Moreno"))
        self._assert_retried_at_once(message)
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        line = self.env[message.result_model].browse(message.result_res_id)
        self.assertEqual(line.integration_employee_id, newcomer)
        self.assertFalse(
            self.env["integration.workforce.gap"].search([("message_id", "=", message.id)])
        )
