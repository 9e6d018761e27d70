from odoo.tests import HttpCase, tagged

from .common import WORKFORCE_TYPES, WorkforceCase, manager_event, sample


@tagged("post_install", "-at_install")
class TestWorkforceMasterData(WorkforceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_workforce()

    def test_every_workforce_sample_is_accepted_as_it_is(self):
        for event_type in WORKFORCE_TYPES:
            with self.subTest(event_type=event_type):
                response = self._post(sample(event_type))
                self.assertEqual(response.status_code, 202, response.text)
                message = self.env["integration.message"].browse(response.json()["id"])
                self.assertEqual(
                    (message.event_type_id.code, message.state), (event_type, "queued")
                )

    def test_data_against_the_schema_is_refused_with_400(self):
        for event_type, data in (
            ("cost_center.upserted", {"code": None}),
            ("department.upserted", {"name": ""}),
            ("employee.upserted", {"active": "yes"}),
            ("employee.terminated", {"termination_date": "31/12/2026"}),
            ("shift.worked", {"hours": "8,5"}),
            ("shift.worked", {"hours": 8.5}),
        ):
            with self.subTest(event_type=event_type, data=data):
                response = self._post(sample(event_type, **data))
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(response.json()["code"], "invalid_data")
        self.assertFalse(
            self.env["integration.message"].search([("backend_id", "=", self.hr_backend.id)])
        )

    def test_cost_centre_is_an_analytic_account_of_the_company_in_the_cost_centers_plan(self):
        account = self._done(sample("cost_center.upserted"))
        plan = self.env.ref("integration_hub_workforce.account_analytic_plan_cost_centers")
        self.assertEqual((account.code, account.name), ("CC-410", "Surgical Services"))
        self.assertEqual((account.plan_id, plan.name), (plan, "Cost Centers"))
        self.assertEqual(account.company_id, self.company)
        renamed = self._done(
            sample(
                "cost_center.upserted",
                name="Surgery and Anaesthesia",
                updated_at="2026-11-22T07:00:00Z",
            )
        )
        self.assertEqual(renamed, account)
        self.assertEqual(account.name, "Surgery and Anaesthesia")
        self.assertEqual(
            self.env["account.analytic.account"].search_count([("plan_id", "=", plan.id)]), 1
        )

    def test_department_before_its_manager_and_cost_centre_gets_them_when_they_arrive(self):
        message = self._send(sample("department.upserted"))
        self.assertEqual(message.state, "done", message.last_error)
        department = self._bound("hr.department", "DEP-SURG")
        self.assertEqual((department.name, department.integration_code), ("Surgery", "SURG"))
        self.assertFalse(department.manager_id)
        self.assertFalse(department.integration_cost_center_id)

        cost_center = self._done(sample("cost_center.upserted"))
        self.assertEqual(department.integration_cost_center_id, cost_center)
        manager = self._done(manager_event(department_code="SURG"))
        self.assertEqual(department.manager_id, manager)
        self.assertFalse(
            self.env["integration.workforce.link"].search([("backend_id", "=", self.hr_backend.id)])
        )
        self.assertEqual(message.state, "done")

    def test_department_before_its_parent_gets_its_parent_when_it_arrives(self):
        child = self._done(
            sample(
                "department.upserted",
                id="DEP-ORTHO",
                code="ORTHO",
                name="Orthopaedics",
                parent_code="SURG",
                manager_id=None,
            )
        )
        self.assertFalse(child.parent_id)
        parent = self._done(sample("department.upserted"))
        self.assertEqual(child.parent_id, parent)
        self.assertIn("Surgery", child.complete_name)

    def test_a_department_code_is_searchable(self):
        department = self._done(sample("department.upserted"))
        self.assertEqual(
            self.env["hr.department"].search([("integration_code", "=", "SURG")]), department
        )

    def test_stale_department_update_changes_nothing(self):
        department = self._done(sample("department.upserted", updated_at="2026-11-20T07:00:00Z"))
        stale = self._send(
            sample(
                "department.upserted",
                name="Old surgery name",
                cost_center_code="CC-OLD",
                updated_at="2026-11-19T07:00:00Z",
            )
        )
        self.assertEqual(stale.state, "done", stale.last_error)
        self.assertEqual(department.name, "Surgery")
        links = self.env["integration.workforce.link"].search(
            [("res_model", "=", "hr.department"), ("res_id", "=", department.id)]
        )
        self.assertNotIn("CC-OLD", links.mapped("target_ref"))

    def test_replayed_webhook_is_a_duplicate_and_creates_nothing_twice(self):
        event = sample("department.upserted")
        first = self._post(event, msg_id="msg_dep_surg_1")
        again = self._post(event, msg_id="msg_dep_surg_1")
        self.assertEqual((first.status_code, again.status_code), (202, 200))
        self.assertEqual(again.json()["status"], "duplicate")
        message = self.env["integration.message"].browse(first.json()["id"])
        self._perform_job(message)
        # The same event again under another id (the sender resent it): one department.
        self._done(event)
        self.assertEqual(
            self.env["hr.department"].search_count([("integration_code", "=", "SURG")]), 1
        )

    def test_companies_keep_their_own_cost_centres_and_departments(self):
        plans = self.env["account.analytic.plan"].search([])
        other_company = self.env["res.company"].create({"name": "Other clinic network"})
        _backend, other_endpoint = self._create_hr_backend(company=other_company, name="Other HR")
        ours = self._done(sample("cost_center.upserted"))
        theirs = self._done(sample("cost_center.upserted"), endpoint=other_endpoint)
        self.assertNotEqual(ours, theirs)
        self.assertEqual(theirs.company_id, other_company)
        # One plan for both: a plan per company added a field to the analytic models
        # with each company, all labelled "Cost Centers" (Odoo warned of the twins).
        self.assertEqual(theirs.plan_id, ours.plan_id)
        self.assertEqual(self.env["account.analytic.plan"].search([]), plans)
        plan_fields = self.env["ir.model.fields"].search(
            [("model", "=", "account.analytic.line"), ("field_description", "=", "Cost Centers")]
        )
        self.assertEqual(plan_fields.mapped("name"), [ours.plan_id._column_name()])
        our_department = self._done(sample("department.upserted"))
        their_department = self._done(sample("department.upserted"), endpoint=other_endpoint)
        self.assertEqual(our_department.integration_cost_center_id, ours)
        self.assertEqual(their_department.integration_cost_center_id, theirs)
        self.assertEqual(their_department.company_id, other_company)
