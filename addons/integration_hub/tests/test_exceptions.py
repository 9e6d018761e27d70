from datetime import timedelta

from lxml import etree
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from odoo.addons.queue_job.exception import RetryableJobError

from ..exceptions import IntegrationBusinessError, error_text
from ..headers import as_text
from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestExceptionLifeCycle(IntegrationHubCase, TransactionCase):
    """An exception stays one exception, with its assignee, until its message succeeds
    (resolved) or is cancelled (cancelled)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.owner = new_test_user(
            cls.env,
            login="hub_owner",
            groups="base.group_user,integration_hub.integration_hub_group_user",
        )
        cls.clerk = new_test_user(
            cls.env,
            login="hub_clerk",
            groups="base.group_user,integration_hub.integration_hub_group_user",
        )
        cls.backend.user_id = cls.owner
        cls.env["ir.config_parameter"].sudo().set_param(
            "integration_hub.tier_target_minutes.near_realtime", "2880"
        )

    def _failing_message(self, contact_id, **data):
        message = self._create_message(contact_event(contact_id, "Border Clinic", **data))
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        return message

    def test_a_retry_that_fails_again_keeps_the_exception_and_its_assignee(self):
        message = self._failing_message("C-R1", country_code="ZZ", updated_at="yesterday")
        exception = message.exception_ids
        self.assertEqual((exception.state, exception.failure_count), ("open", 1))
        exception.with_user(self.clerk).action_take()
        # The first cause is fixed; the retry meets another one.
        self.env["res.country"].create({"name": "Zedland", "code": "ZZ"})
        exception.with_user(self.clerk).action_retry()
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids, exception, "no second exception")
        self.assertEqual(exception.state, "open", "it needs someone again")
        self.assertEqual(exception.user_id, self.clerk, "still with the clerk who took it")
        self.assertEqual(exception.failure_count, 2)
        self.assertEqual(exception.kind, "validation")
        self.assertIn("updated_at is not an ISO 8601 date", exception.explanation)
        self.assertFalse(exception.resolved_by_id, "nobody resolved it")
        self.assertFalse(exception.resolved_date)
        self.assertTrue(
            any(
                "failed for another reason" in body for body in exception.message_ids.mapped("body")
            )
        )

    def test_only_success_resolves_and_the_one_who_retried_resolved_it(self):
        message = self._failing_message("C-R2", country_code="ZZ")
        exception = message.exception_ids
        exception.with_user(self.clerk).action_retry()
        self._perform_job(message)
        self.assertEqual((exception.state, exception.failure_count), ("open", 2))
        self.assertIn("Unknown country code 'ZZ'", exception.activity_ids.note)
        self.env["res.country"].create({"name": "Zedland", "code": "ZZ"})
        exception.with_user(self.clerk).action_retry()
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolved_by_id, self.clerk)

    def test_cancelling_the_message_cancels_its_exception_and_the_todo(self):
        for how in ("message", "bulk"):
            with self.subTest(how=how):
                message = self._failing_message(f"C-X-{how}", country_code="ZZ")
                exception = message.exception_ids
                self.assertEqual(len(exception.activity_ids), 1)
                if how == "message":
                    message.action_cancel()
                else:
                    self.env["integration.message.bulk"].with_context(
                        active_model="integration.message",
                        active_ids=message.ids,
                        default_operation="cancel",
                    ).create({}).action_confirm()
                self.assertEqual(message.state, "cancelled")
                self.assertEqual(exception.state, "cancelled")
                self.assertTrue(exception.resolved_date)
                self.assertFalse(exception.activity_ids, "the to-do is done")

    def test_new_exception_goes_to_the_owner_with_a_todo_due_within_the_tier(self):
        message = self._failing_message("C-O1", country_code="ZZ")
        exception = message.exception_ids
        self.assertEqual(exception.user_id, self.owner)
        activity = exception.activity_ids
        self.assertEqual(activity.user_id, self.owner)
        expected = (fields.Datetime.now() + timedelta(minutes=2880)).date()
        self.assertIn(activity.date_deadline, (expected - timedelta(days=1), expected))
        self.assertIn(exception.name, activity.summary)
        # The owner's "My exceptions" (the action's filter, as the owner) lists it.
        mine = (
            self.env["integration.exception"]
            .with_user(self.owner)
            .search([("user_id", "=", self.owner.id), ("state", "in", ("open", "in_progress"))])
        )
        self.assertIn(exception, mine)
        # Taking it moves the to-do to whoever took it, it does not add a second one.
        exception.with_user(self.clerk).action_take()
        self.assertEqual(exception.activity_ids.user_id, self.clerk)
        self.assertEqual(len(exception.activity_ids), 1)

    def test_routing_rules_assign_by_backend_and_kind_most_specific_first(self):
        rules = self.env["integration.exception.rule"]
        no_team = self.env["integration.team"]
        other = new_test_user(self.env, login="hub_other", groups="base.group_user")
        rules.create({"kind": "unknown_record", "user_id": other.id})
        self.assertEqual(rules._route(self.backend, "unknown_record"), (other, no_team))
        rules.create({"backend_id": self.backend.id, "user_id": self.clerk.id})
        self.assertEqual(rules._route(self.backend, "unknown_record"), (self.clerk, no_team))
        self.assertEqual(rules._route(self.backend, "validation"), (self.clerk, no_team))
        rules.create({"backend_id": self.backend.id, "kind": "unknown_record", "user_id": other.id})
        self.assertEqual(rules._route(self.backend, "unknown_record"), (other, no_team))
        message = self._failing_message("C-O2", country_code="ZZ")
        self.assertEqual(message.exception_ids.user_id, other)
        # Without rules, the owner; an owner who is OdooBot (data files) assigns nobody.
        unruled = self._create_backend(user_id=self.env.ref("base.user_root").id)
        self.assertEqual(rules._route(unruled, "conflict"), (self.env["res.users"], no_team))

    def _my_exceptions(self, user):
        """What "My exceptions" lists for ``user``: the search view's filter, as them."""
        views = self.env["integration.exception"].get_views([(False, "search")])
        arch = etree.fromstring(views["views"]["search"]["arch"])
        domain = safe_eval(arch.xpath("//filter[@name='my']")[0].get("domain"), {"uid": user.id})
        return self.env["integration.exception"].with_user(user).search(domain)

    def test_a_team_rule_gives_each_exception_to_the_member_holding_the_fewest(self):
        late = new_test_user(
            self.env, login="hub_late", groups="integration_hub.integration_hub_group_user"
        )
        team = self.env["integration.team"].create(
            {"name": "Contacts desk", "member_ids": [(6, 0, (late | self.clerk).ids)]}
        )
        self.env["integration.exception.rule"].create(
            {"backend_id": self.backend.id, "team_id": team.id}
        )
        exceptions = [
            self._failing_message(f"C-T{number}", country_code="ZZ").exception_ids
            for number in range(3)
        ]
        # 0 and 0 open: the earliest user; then the one with none; then a tie again.
        self.assertEqual(
            [(e.team_id, e.user_id) for e in exceptions],
            [(team, self.clerk), (team, late), (team, self.clerk)],
        )
        self.assertEqual(exceptions[1].activity_ids.user_id, late)
        # Closed exceptions no longer count: the clerk holds none open, late one.
        exceptions[0].with_user(self.clerk).action_ignore()
        exceptions[2].with_user(self.clerk).action_ignore()
        exceptions[1].with_user(late).action_take()
        fourth = self._failing_message("C-T3", country_code="ZZ").exception_ids
        self.assertEqual(fourth.user_id, self.clerk)
        self.assertIn(fourth, self._my_exceptions(self.clerk))
        self.assertNotIn(fourth, self._my_exceptions(late), "the clerk holds it")

    def test_a_team_exception_nobody_holds_is_in_every_members_my_exceptions(self):
        outsider = new_test_user(
            self.env, login="hub_outsider", groups="integration_hub.integration_hub_group_user"
        )
        team = self.env["integration.team"].create(
            {"name": "Contacts desk", "member_ids": [(6, 0, (self.owner | self.clerk).ids)]}
        )
        self.env["integration.exception.rule"].create(
            {"backend_id": self.backend.id, "team_id": team.id}
        )
        # Every member archived (or none): the exception waits with the team, unassigned.
        (self.owner | self.clerk).active = False
        exception = self._failing_message("C-U1", country_code="ZZ").exception_ids
        self.assertEqual((exception.team_id, exception.user_id), (team, self.env["res.users"]))
        self.assertFalse(exception.activity_ids)
        (self.owner | self.clerk).active = True
        for user, sees in ((self.owner, True), (self.clerk, True), (outsider, False)):
            with self.subTest(user=user.login):
                self.assertEqual(exception in self._my_exceptions(user), sees)
        # Taken by a member: it is theirs alone.
        exception.with_user(self.clerk).action_take()
        self.assertIn(exception, self._my_exceptions(self.clerk))
        self.assertNotIn(exception, self._my_exceptions(self.owner))
        # Grouped by team in the list.
        groups = (
            self.env["integration.exception"]
            .with_user(self.owner)
            ._read_group([("team_id", "!=", False)], ["team_id"], ["__count"])
        )
        self.assertEqual(groups, [(team, 1)])

    def test_a_routing_rule_names_a_user_or_a_team(self):
        team = self.env["integration.team"].create({"name": "Contacts desk"})
        rules = self.env["integration.exception.rule"]
        for values in ({}, {"user_id": self.clerk.id, "team_id": team.id}):
            with (
                self.subTest(values=values),
                mute_logger("odoo.sql_db"),
                self.assertRaises(IntegrityError),
                self.env.cr.savepoint(),
            ):
                rules.create(dict(values, backend_id=self.backend.id))

    def test_managers_configure_teams_and_users_read_them(self):
        manager = new_test_user(
            self.env,
            login="hub_team_manager",
            groups="integration_hub.integration_hub_group_manager",
        )
        employee = new_test_user(self.env, login="hub_team_employee", groups="base.group_user")
        team = self.env["integration.team"].with_user(manager).create({"name": "Finance"})
        team.with_user(manager).member_ids = self.clerk
        for user in (self.clerk, employee):
            with self.subTest(user=user.login):
                self.assertEqual(team.with_user(user).read(["name"])[0]["name"], "Finance")
                with self.assertRaises(AccessError):
                    team.with_user(user).write({"name": "Mine"})
                with self.assertRaises(AccessError):
                    self.env["integration.team"].with_user(user).create({"name": "Mine"})
        # Another company's team is not shown.
        other = self.env["res.company"].create({"name": "Other clinic"})
        team.company_id = other
        self.assertFalse(
            self.env["integration.team"].with_user(self.clerk).search([("id", "=", team.id)])
        )

    def test_exception_links_the_record_concerned_when_it_still_exists(self):
        message = self._create_message(contact_event("C-L1"))
        message.write({"state": "exception", "job_id": False})
        partner = self.env["res.partner"].create({"name": "Linked Clinic"})
        exception = self.env["integration.exception"]._open_for(
            message, IntegrationBusinessError("Amounts differ.", "conflict", record=partner)
        )
        self.assertEqual((exception.res_model, exception.res_id), ("res.partner", partner.id))
        self.assertEqual(exception.with_user(self.clerk).record_name, "Linked Clinic")
        self.assertTrue(exception.with_user(self.clerk).record_readable)
        action = exception.with_user(self.clerk).action_open_record()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", partner.id))
        # A record the person may not read is named by its kind, never opened.
        secret = self.env["integration.endpoint.secret"].search([], limit=1)
        exception.write({"res_model": secret._name, "res_id": secret.id})
        exception.invalidate_recordset(["record_name"])
        self.assertEqual(exception.with_user(self.clerk).record_name, secret._description)
        self.assertFalse(exception.with_user(self.clerk).record_readable, "no button to open it")
        # A record made by the failed attempt was rolled back with it: no link.
        other = self._create_message(contact_event("C-L2"))
        other.write({"state": "exception", "job_id": False})
        with self.assertRaises(IntegrationBusinessError) as caught:
            with self.env.cr.savepoint():
                ghost = self.env["res.partner"].create({"name": "Ghost"})
                raise IntegrationBusinessError("No.", record=ghost)
        unlinked = self.env["integration.exception"]._open_for(other, caught.exception)
        self.assertFalse(unlinked.res_model)
        self.assertFalse(unlinked.record_name)

    def test_technical_errors_are_told_without_python_class_names(self):
        self.assertEqual(
            error_text(RetryableJobError("The receiver is busy.")), "The receiver is busy."
        )
        self.assertEqual(
            error_text(KeyError("patient_id")), "A required field is missing: patient_id."
        )
        self.assertNotIn("Error", error_text(ValueError()))
        self.assertEqual(error_text(IntegrationBusinessError("Unknown payer.")), "Unknown payer.")


@tagged("post_install", "-at_install")
class TestMessageWording(IntegrationHubCase, TransactionCase):
    """Labels that fit the direction, readable headers, banners that apply."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    def _form_arch(self):
        views = self.env["integration.message"].get_views([(False, "form")])
        return etree.fromstring(views["views"]["form"]["arch"])

    def test_form_labels_follow_the_direction(self):
        arch = self._form_arch()
        for field, label, shown_for in (
            ("create_date", "Received", "in"),
            ("create_date", "Emitted", "out"),
            ("sender_message_id", "Message id (webhook-id)", "out"),
            ("done_date", "Delivered", "out"),
        ):
            with self.subTest(field=field, label=label):
                nodes = arch.xpath(f"//sheet/group//field[@name='{field}'][@string='{label}']")
                self.assertEqual(len(nodes), 1)
                self.assertIn(f"direction != '{shown_for}'", nodes[0].get("invisible"))

    def test_last_error_banner_only_while_the_message_is_failing(self):
        arch = self._form_arch()
        banner = arch.xpath("//div[hasclass('alert-danger')][.//field[@name='last_error']]")[0]
        invisible = banner.get("invisible")
        for state, shown in (
            ("queued", False),
            ("done", False),
            ("cancelled", False),
            ("retrying", True),
            ("dead", True),
            ("exception", True),
        ):
            with self.subTest(state=state):
                hidden = safe_eval(invisible, {"last_error": "HTTP 404", "state": state})
                self.assertEqual(not hidden, shown)

    def test_headers_show_one_per_line(self):
        message = self._create_message()
        message.headers = '{"content-type": "application/json", "webhook-id": "msg_1"}'
        self.assertEqual(message.headers_text, "content-type: application/json\nwebhook-id: msg_1")
        self.assertEqual(as_text("not json"), "not json")

    def test_pivot_counts_messages_and_averages_durations(self):
        views = self.env["integration.message"].get_views([(False, "pivot")])
        arch = etree.fromstring(views["views"]["pivot"]["arch"])
        self.assertFalse(arch.xpath("//field[@type='measure']"), "the default measure is Count")
        first, second = self._create_message(), self._create_message(contact_event("C-2"))
        for message, duration in ((first, 100), (second, 300)):
            self.env["integration.message.attempt"].create(
                {
                    "message_id": message.id,
                    "number": 1,
                    "start_date": fields.Datetime.now(),
                    "outcome": "done",
                    "duration_ms": duration,
                }
            )
        [(average,)] = self.env["integration.message"]._read_group(
            [("id", "in", (first | second).ids)], [], ["duration_ms:avg"]
        )
        self.assertEqual(average, 200)
        grouped = self.env["integration.message"].read_group(
            [("id", "in", (first | second).ids)], ["duration_ms"], []
        )
        self.assertEqual(grouped[0]["duration_ms"], 200, "the field's own aggregate is the average")
