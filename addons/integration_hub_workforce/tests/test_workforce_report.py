from odoo.tests import HttpCase, new_test_user, tagged

from .common import WorkforceCase, manager_event, sample


@tagged("post_install", "-at_install")
class TestWorkforceReport(WorkforceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_workforce()

    def _gaps(self, kind):
        return self.env["integration.workforce.gap"].search([("kind", "=", kind)])

    def test_hours_cost_and_headcount_by_department_cost_centre_and_week(self):
        self._done(sample("cost_center.upserted"))
        department = self._done(sample("department.upserted"))
        employee = self._done(sample("employee.upserted"))
        employee.hourly_cost = 40.0
        self._done(manager_event(department_code="SURG"))
        for shift_id, day, hours in (
            ("S-1", "2026-11-16", "8.00"),
            ("S-2", "2026-11-17", "4.50"),
            ("S-3", "2026-11-24", "10.00"),
        ):
            self._done(sample("shift.worked", id=shift_id, date=day, hours=hours))
        report = self.env["integration.workforce.report"]
        weeks = report.read_group(
            [("department_id", "=", department.id), ("line_type", "=", "shift")],
            ["hours:sum", "labour_cost:sum"],
            ["date:week"],
            orderby="date:week",
        )
        self.assertEqual(
            [(week["hours"], week["labour_cost"]) for week in weeks],
            [(12.5, 500.0), (10.0, 400.0)],
        )
        by_cost_center = report.read_group(
            [("line_type", "=", "shift")], ["hours:sum"], ["cost_center_id"]
        )
        self.assertEqual(
            [(group["cost_center_id"][1], group["hours"]) for group in by_cost_center],
            [(employee.integration_cost_center_id.display_name, 22.5)],
        )
        headcount = report.read_group(
            [("department_id", "=", department.id)], ["headcount:sum"], ["department_id"]
        )
        self.assertEqual(headcount[0]["headcount"], 2)

    def test_reconciliation_gaps_show_what_is_missing_and_disappear_when_it_arrives(self):
        department = self._done(sample("department.upserted"))
        self.assertIn(department, self._gaps("department_no_manager").department_id)
        self.assertIn(department, self._gaps("department_no_cost_center").department_id)
        employee = self._done(sample("employee.upserted", cost_center_code=None))
        self.assertIn(employee, self._gaps("employee_no_cost_center").employee_id)
        manager = self._done(manager_event(department_code=None))
        self.assertIn(manager, self._gaps("employee_no_department").employee_id)
        self.assertIn(manager, self._gaps("manager_no_user").employee_id)

        self._done(sample("cost_center.upserted"))
        self.assertNotIn(department, self._gaps("department_no_manager").department_id)
        self.assertNotIn(department, self._gaps("department_no_cost_center").department_id)
        self.assertNotIn(employee, self._gaps("employee_no_cost_center").employee_id)
        # A user whose login is the manager's work e-mail is their Odoo user.
        new_test_user(self.env, login="dana.whitfield@clinic.example")
        self.assertNotIn(manager, self._gaps("manager_no_user").employee_id)

    def test_hr_officer_reads_the_report_of_their_company_only(self):
        self._done(sample("cost_center.upserted"))
        self._done(sample("department.upserted"))
        self._done(sample("employee.upserted"))
        self._done(sample("shift.worked"))
        other_company = self.env["res.company"].create({"name": "Other clinic network"})
        _backend, other_endpoint = self._create_hr_backend(company=other_company, name="Other HR")
        for event_type in ("cost_center.upserted", "department.upserted", "employee.upserted"):
            self._done(sample(event_type), endpoint=other_endpoint)
        self._done(sample("shift.worked", hours="3.00"), endpoint=other_endpoint)
        officer = new_test_user(
            self.env,
            "workforce_officer",
            groups="hr.group_hr_user",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )
        rows = (
            self.env["integration.workforce.report"]
            .with_user(officer)
            .search([("line_type", "=", "shift")])
        )
        self.assertEqual(rows.mapped("hours"), [8.5])
        self.assertEqual(rows.company_id, self.company)
