import json
from datetime import date, timedelta

from freezegun import freeze_time

from odoo.tests import HttpCase, tagged

from .common import WorkforceCase, manager_event, sample


@tagged("post_install", "-at_install")
class TestWorkforceEmployee(WorkforceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_workforce()

    def _master_data(self):
        self._done(sample("cost_center.upserted"))
        self._done(sample("department.upserted"))

    def test_employee_sample_after_its_department_is_created_with_its_links(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        department = self._bound("hr.department", "DEP-SURG")
        self.assertEqual(
            (employee.name, employee.work_email, employee.job_title),
            ("Sam Carter", "sam.carter@clinic.example", "Charge Nurse"),
        )
        self.assertEqual(employee.department_id, department)
        self.assertEqual(employee.integration_cost_center_id.code, "CC-410")
        self.assertEqual(employee.company_id, self.company)
        # Manager EMP-3 arrives after: both the employee and the department get them.
        self.assertFalse(employee.parent_id)
        manager = self._done(manager_event(department_code="SURG"))
        self.assertEqual(employee.parent_id, manager)
        self.assertEqual(department.manager_id, manager)

    def test_employee_keeps_only_the_fields_the_hub_needs(self):
        self._master_data()
        event = sample(
            "employee.upserted",
            birthday="1980-04-02",
            private_street="12 Elm Street",
            salary="84000.00",
            ssn="123-45-6789",
            identification_id="X1234567",
            private_email="sam@home.example",
        )
        message = self._send(event)
        self.assertEqual(message.state, "done", message.last_error)
        employee = self._bound("hr.employee", "EMP-12")
        self.assertFalse(employee.birthday)
        self.assertFalse(employee.private_street)
        self.assertFalse(employee.identification_id)
        self.assertFalse(employee.ssnid)
        self.assertFalse(employee.private_email)
        stored = json.loads(message.payload)["data"]
        for key in ("birthday", "private_street", "salary", "ssn", "identification_id"):
            self.assertNotIn(key, stored)
        self.assertEqual(stored["name"], "Sam Carter")
        self.assertNotIn("123-45-6789", message.payload_pretty)

    def test_employee_before_its_department_waits_then_is_done_when_it_arrives(self):
        self.hr_backend.batch_size = 1  # the woken job itself, not a batch taking it
        message = self._send(sample("employee.upserted"))
        self.assertEqual(message.state, "retrying", message.last_error)
        self.assertFalse(self._bound("hr.employee", "EMP-12"))
        self.assertFalse(message.exception_ids)
        self._done(sample("department.upserted"))
        # The department's arrival retries the waiting employee at once.
        self._assert_retried_at_once(message)
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        employee = self._bound("hr.employee", "EMP-12")
        self.assertEqual(employee.department_id.integration_code, "SURG")

    def test_employee_whose_department_never_arrives_opens_a_waiting_exception(self):
        message = self._send(sample("employee.upserted", department_code="NOPE"))
        for _attempt in range(self.hr_backend.max_attempts - 1):
            self.assertEqual(message.state, "retrying")
            self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids.kind, "waiting")
        self.assertIn("NOPE", message.exception_ids.explanation)

    def test_employee_is_created_quietly_and_its_later_changes_are_tracked(self):
        self._track_changes()
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        hub_partner = self.env.ref("integration_hub.user_integration_hub").partner_id
        # The message that created it is its record: no "created" note, and the hub's
        # technical user does not follow every employee it creates.
        self.assertNotIn(hub_partner, employee.message_partner_ids)
        self.assertFalse(
            employee.message_ids.filtered(lambda m: "created" in (m.body or "").lower())
        )
        self._done(
            sample("employee.upserted", name="Sam Carter-Ray", updated_at="2026-11-21T07:00:00Z")
        )
        self.assertEqual(employee.name, "Sam Carter-Ray")
        renamed = employee.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "name"
        )
        self.assertEqual(renamed.mapped("new_value_char"), ["Sam Carter-Ray"])

    def test_update_without_a_manager_clears_the_existing_employees_pending_link(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        links = self.env["integration.workforce.link"]
        domain = [("res_model", "=", "hr.employee"), ("res_id", "=", employee.id)]
        # Manager EMP-3 has not arrived: the link waits for it.
        self.assertEqual(links.search(domain).mapped("target_ref"), ["EMP-3"])
        self._done(sample("employee.upserted", manager_id=None, updated_at="2026-11-21T07:00:00Z"))
        self.assertFalse(links.search(domain))
        self.assertEqual(
            self.env["integration.binding"].search_count(
                [("res_model", "=", "hr.employee"), ("external_id", "=", "EMP-12")]
            ),
            1,
        )

    def test_stale_employee_update_is_skipped(self):
        self._master_data()
        employee = self._done(sample("employee.upserted", updated_at="2026-11-20T07:00:00Z"))
        stale = self._send(
            sample("employee.upserted", job_title="Nurse", updated_at="2026-11-19T07:00:00Z")
        )
        self.assertEqual(stale.state, "done", stale.last_error)
        self.assertEqual(employee.job_title, "Charge Nurse")
        newer = self._done(
            sample("employee.upserted", job_title="Ward Manager", updated_at="2026-11-21T07:00:00Z")
        )
        self.assertEqual((newer, employee.job_title), (employee, "Ward Manager"))

    def test_termination_dated_today_archives_the_employee_with_the_reason(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        today = employee._integration_today()
        self._done(sample("employee.terminated", termination_date=today.isoformat()))
        self.assertFalse(employee.active)
        self.assertEqual(employee.departure_date, today)
        self.assertEqual(employee.departure_reason_id, self.env.ref("hr.departure_resigned"))

    def test_termination_with_an_unknown_reason_is_other_and_noted(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        past = employee._integration_today() - timedelta(days=3)
        self._done(
            sample("employee.terminated", termination_date=past.isoformat(), reason="relocation")
        )
        self.assertFalse(employee.active)
        self.assertEqual(employee.departure_date, past)
        self.assertEqual(
            employee.departure_reason_id,
            self.env.ref("integration_hub_workforce.hr_departure_reason_other"),
        )
        self.assertIn("relocation", employee.departure_description)

    def test_future_termination_is_scheduled_and_applied_on_its_day(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        future = employee._integration_today() + timedelta(days=30)
        self._done(sample("employee.terminated", termination_date=future.isoformat()))
        self.assertTrue(employee.active)
        self.assertEqual(employee.integration_termination_date, future)
        hr_employee = self.env["hr.employee"]
        self.assertEqual(hr_employee._cron_integration_terminate_due(), 0)
        self.assertTrue(employee.active)
        with freeze_time(future):
            self.assertEqual(hr_employee._cron_integration_terminate_due(), 1)
        self.assertFalse(employee.active)
        self.assertEqual(employee.departure_reason_id, self.env.ref("hr.departure_resigned"))

    def test_a_termination_is_due_on_the_employees_own_day_not_utcs(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        employee.integration_termination_date = date(2026, 12, 2)
        hr_employee = self.env["hr.employee"]
        # 23:30 UTC on 1 December: already 2 December in Brussels, not in New York.
        with freeze_time("2026-12-01 23:30:00"):
            employee.tz = "America/New_York"
            self.assertEqual(employee._integration_today(), date(2026, 12, 1))
            self.assertEqual(hr_employee._cron_integration_terminate_due(), 0)
            self.assertTrue(employee.active)
            employee.tz = "Europe/Brussels"
            self.assertEqual(employee._integration_today(), date(2026, 12, 2))
            self.assertEqual(hr_employee._cron_integration_terminate_due(), 1)
        self.assertFalse(employee.active)
        self.assertEqual(employee.departure_date, date(2026, 12, 2))

    def test_termination_of_an_unknown_employee_waits_for_the_employee(self):
        message = self._send(sample("employee.terminated", id="EMP-404"))
        self.assertEqual(message.state, "retrying", message.last_error)

    def test_rehire_is_a_later_upsert_with_active_true(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        today = employee._integration_today()
        self._done(sample("employee.terminated", termination_date=today.isoformat()))
        self.assertFalse(employee.active)
        rehired = self._done(
            sample("employee.upserted", active=True, updated_at="2026-11-25T07:00:00Z")
        )
        self.assertEqual(rehired, employee)
        self.assertTrue(employee.active)
        self.assertFalse(employee.departure_date)
        self.assertFalse(employee.departure_reason_id)
        self.assertEqual(
            self.env["hr.employee"]
            .with_context(active_test=False)
            .search_count([("name", "=", "Sam Carter")]),
            1,
        )

    def test_an_upsert_older_than_the_termination_does_not_rehire(self):
        self._master_data()
        employee = self._done(sample("employee.upserted"))
        today = employee._integration_today()
        self._done(sample("employee.terminated", termination_date=today.isoformat()))
        late = self._send(sample("employee.upserted", updated_at="2026-11-21T08:00:00Z"))
        self.assertEqual(late.state, "done", late.last_error)
        self.assertFalse(employee.active)
