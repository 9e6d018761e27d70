from datetime import datetime

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import BaseCase, Form, TransactionCase, new_test_user, tagged

from .. import fingerprint
from ..exceptions import IntegrationBusinessError, UnmappedCodeError
from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestFingerprint(BaseCase):
    def test_normalise_replaces_quoted_values_uuids_ids_codes_and_numbers(self):
        self.assertEqual(
            fingerprint.normalise(
                "The service code 'G0402' of Demo billing is not mapped, see \"PAT-12\"."
            ),
            "The service code <value> of Demo billing is not mapped, see <value>.",
        )
        self.assertEqual(
            fingerprint.normalise(
                "Job 550e8400-e29b-41d4-a716-446655440000 for msg_0123456789abcdef0123 "
                "of CHG-9002 failed on 2026-11-21 12:00:03 after 3  attempts, HTTP 503"
            ),
            "Job <uuid> for <id> of <code> failed on <n> <n> after <n> attempts, HTTP <n>",
        )
        self.assertEqual(fingerprint.normalise(False), "")

    def test_fingerprint_ignores_values_but_not_backend_event_type_or_kind(self):
        one = fingerprint.fingerprint(1, "charge.captured", "unmapped_code", "code 'G0402' x")
        self.assertEqual(
            one, fingerprint.fingerprint(1, "charge.captured", "unmapped_code", "code 'G0403'  x")
        )
        for other in (
            (2, "charge.captured", "unmapped_code", "code 'G0402' x"),
            (1, "payment.posted", "unmapped_code", "code 'G0402' x"),
            (1, "charge.captured", "validation", "code 'G0402' x"),
            (1, "charge.captured", "unmapped_code", "payer 'G0402' x"),
        ):
            with self.subTest(other=other):
                self.assertNotEqual(one, fingerprint.fingerprint(*other))

    def test_pick_fix_prefers_the_target_applied_most_then_the_latest(self):
        early, late = datetime(2026, 1, 1), datetime(2026, 2, 1)
        self.assertIsNone(fingerprint.pick_fix([]))
        self.assertEqual(
            fingerprint.pick_fix([("A", early, 3), ("B", late, 4), ("A", early, 1)]),
            ("A", [1, 3]),
        )
        self.assertEqual(fingerprint.pick_fix([("A", early, 1), ("B", late, 2)]), ("B", [2]))


@tagged("post_install", "-at_install")
class TestIssues(IntegrationHubCase, TransactionCase):
    """Open exceptions and dead messages failing the same way are one issue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.unmapped = cls._exceptions(
            UnmappedCodeError("service", "G0402"),
            UnmappedCodeError("service", "G0403"),
            UnmappedCodeError("service", "G0402"),
        )
        cls.invalid = cls._exceptions(IntegrationBusinessError("date: '2026-13-01' is invalid"))
        cls.dead = cls.env["integration.message"]
        for seconds in (30, 45):
            message = cls._create_message(contact_event(f"C-dead-{seconds}"))
            message.write(
                {"state": "dead", "last_error": f"ConnectionError('timed out after {seconds} s')"}
            )
            cls.dead |= message

    @classmethod
    def _exceptions(cls, *errors):
        exceptions = cls.env["integration.exception"]
        for number, error in enumerate(errors):
            message = cls._create_message(contact_event(f"C-{error.kind}-{number}"))
            message.state = "exception"
            exceptions |= cls.env["integration.exception"]._open_for(message, error)
        return exceptions

    def _issue(self, records, env=None):
        self.env.flush_all()
        field = "fingerprint" if records._name == "integration.exception" else "failure_fingerprint"
        return (env or self.env)["integration.issue"].search(
            [("fingerprint", "=", records[:1][field])]
        )

    def _confirm(self, issue, operation, **values):
        action = getattr(issue, f"action_{operation}_all")()
        form = Form(self.env[action["res_model"]].with_context(**action["context"]))
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def test_exceptions_failing_the_same_way_are_one_issue(self):
        self.assertEqual(len(set(self.unmapped.mapped("fingerprint"))), 1)
        issue = self._issue(self.unmapped)
        self.assertEqual(len(issue), 1)
        self.assertEqual(
            (issue.failure_count, issue.exception_count, issue.dead_count),
            (3, 3, 0),
        )
        self.assertEqual(
            (issue.backend_id, issue.event_type, issue.kind),
            (self.backend, "contact.upserted", "unmapped_code"),
        )
        self.assertEqual(issue.first_seen, min(self.unmapped.mapped("create_date")))
        self.assertEqual(issue.last_seen, max(self.unmapped.mapped("create_date")))
        self.assertIn("is not mapped", issue.explanation)
        self.assertEqual(issue.exception_ids, self.unmapped)
        self.assertNotEqual(self._issue(self.invalid), issue)
        self.assertEqual(self._issue(self.invalid).failure_count, 1)

    def test_dead_messages_failing_the_same_way_are_one_issue(self):
        self.assertEqual(len(set(self.dead.mapped("failure_fingerprint"))), 1)
        issue = self._issue(self.dead)
        self.assertEqual((issue.failure_count, issue.dead_count, issue.kind), (2, 2, "dead"))
        self.assertEqual(issue.message_ids, self.dead)
        self.dead[0].write({"state": "cancelled"})
        self.assertFalse(self.dead[0].failure_fingerprint)
        self.assertEqual(self._issue(self.dead[1:]).dead_count, 1)

    def test_a_resolved_exception_leaves_its_issue(self):
        self.unmapped[0].action_ignore()
        self.assertEqual(self._issue(self.unmapped).exception_count, 2)

    def test_retry_all_says_how_many_then_replays_every_message(self):
        wizard = self._confirm(self._issue(self.unmapped), "retry")
        self.assertIn("3 open exception(s) and 0 dead message(s)", wizard.summary)
        wizard.action_confirm()
        self.assertEqual(set(self.unmapped.message_id.mapped("state")), {"queued"})
        self.assertEqual(set(self.unmapped.mapped("state")), {"in_progress"})
        wizard = self._confirm(self._issue(self.dead), "retry")
        self.assertIn("0 open exception(s) and 2 dead message(s)", wizard.summary)
        wizard.action_confirm()
        self.assertEqual(set(self.dead.mapped("state")), {"queued"})
        self.assertFalse(self._issue(self.dead))

    def test_ignore_all_closes_the_exceptions_and_cancels_their_messages(self):
        self._confirm(self._issue(self.unmapped), "ignore").action_confirm()
        self.assertEqual(set(self.unmapped.mapped("state")), {"ignored"})
        self.assertEqual(set(self.unmapped.message_id.mapped("state")), {"cancelled"})
        self.assertEqual(self.invalid.state, "open")
        self._confirm(self._issue(self.dead), "ignore").action_confirm()
        self.assertEqual(set(self.dead.mapped("state")), {"cancelled"})

    def test_assign_all_assigns_every_open_exception_of_the_issue(self):
        clerk = new_test_user(
            self.env, "issue_clerk", groups="integration_hub.integration_hub_group_user"
        )
        issue = self._issue(self.unmapped)
        unchosen = self.env["integration.issue.confirm"].create(
            {"issue_id": issue.id, "operation": "assign"}
        )
        with self.assertRaisesRegex(UserError, "Choose the user"):
            unchosen.action_confirm()
        wizard = self._confirm(issue, "assign", user_id=clerk)
        self.assertIn("Assign 3 open exception(s)", wizard.summary)
        wizard.action_confirm()
        self.assertEqual(self.unmapped.user_id, clerk)
        self.assertFalse(self.invalid.user_id)

    def test_issues_follow_the_rules_on_exceptions_and_messages(self):
        other_company = self.env["res.company"].create({"name": "Other clinic"})
        clerk = new_test_user(
            self.env, "issue_user", groups="integration_hub.integration_hub_group_user"
        )
        stranger = new_test_user(
            self.env,
            "issue_stranger",
            groups="integration_hub.integration_hub_group_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        employee = new_test_user(self.env, "issue_employee", groups="base.group_user")
        for user, sees_exceptions, sees_dead in (
            (clerk, True, True),
            (stranger, False, False),
            (employee, False, False),
        ):
            with self.subTest(user=user.login):
                env = self.env(user=user)
                self.assertEqual(bool(self._issue(self.unmapped, env)), sees_exceptions)
                self.assertEqual(bool(self._issue(self.dead, env)), sees_dead)

    def test_only_managers_replay_the_dead_messages_of_an_issue(self):
        clerk = new_test_user(
            self.env, "issue_retrier", groups="integration_hub.integration_hub_group_user"
        )
        issue = self._issue(self.dead, self.env(user=clerk))
        wizard = (
            self.env["integration.issue.confirm"]
            .with_user(clerk)
            .create({"issue_id": issue.id, "operation": "retry"})
        )
        with self.assertRaisesRegex(UserError, "Only integration managers"):
            wizard.action_confirm()
        self.assertEqual(set(self.dead.mapped("state")), {"dead"})
