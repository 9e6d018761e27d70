from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestReviewRules(IntegrationHubCase, TransactionCase):
    """A number over a review rule's limit stops the message for a person's review."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.env["integration.review.rule"].search([]).write({"active": False})
        cls.rule = cls.env["integration.review.rule"].create(
            {
                "name": "Implausible headcount",
                "event_type_id": cls.contact_type.id,
                "field_path": "staff.count",
                "maximum": 1000,
            }
        )

    def _process(self, count, contact_id="C-R1"):
        message = self._create_message(contact_event(contact_id, staff=[{"count": count}]))
        self._perform_job(message)
        return message

    def test_over_the_maximum_opens_a_review_exception_and_changes_nothing(self):
        message = self._process("100000")
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual((exception.kind, exception.review_rule_id), ("review", self.rule))
        self.assertIn("staff.count is 100000, over the maximum 1000", exception.explanation)
        self.assertNotIn("Northside", exception.explanation, "no other data of the event")
        self.assertFalse(self._partners("C-R1"), "nothing was processed")

    def test_under_the_limit_is_processed_as_usual(self):
        message = self._process(999)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertTrue(self._partners("C-R1"))

    def test_approve_processes_once_past_the_rule_and_records_who_and_when(self):
        message = self._process("100000")
        exception = message.exception_ids
        exception.action_approve()
        self.assertEqual(exception.approved_by_id, self.env.user)
        self.assertTrue(exception.approved_date)
        # Waiting to be processed: not closed yet, and not approved or rejected twice.
        self.assertEqual(
            (exception.state, exception.retry_user_id, exception.resolved_by_id),
            ("in_progress", self.env.user, self.env["res.users"]),
        )
        for action in ("action_approve", "action_reject"):
            with self.subTest(action=action), self.assertRaisesRegex(UserError, "Already approved"):
                getattr(exception, action)()
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertTrue(self._partners("C-R1"))
        self.assertEqual(exception.state, "resolved")
        self.assertFalse(message.review_bypass_rule_ids, "the approval is used up")
        # Replayed later, the rule applies again: an approval is for one processing.
        message.action_replay()
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids.filtered(lambda e: e.state == "open").kind, "review")

    def test_held_by_another_rule_after_an_approval_needs_its_own(self):
        other = self.rule.copy({"name": "Implausible headcount, second opinion", "maximum": 2000})
        message = self._process("100000")
        exception = message.exception_ids
        first_rule = exception.review_rule_id
        exception.action_approve()
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertEqual(message.exception_ids, exception, "the same exception, open again")
        self.assertEqual(
            (exception.state, exception.review_rule_id, exception.approved_by_id),
            ("open", (self.rule | other) - first_rule, self.env["res.users"]),
        )
        exception.action_approve()
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(exception.state, "resolved")

    def test_reject_cancels_the_message(self):
        message = self._process("100000")
        message.exception_ids.action_reject()
        self.assertEqual(message.state, "cancelled")
        self.assertEqual(message.exception_ids.state, "ignored")
        self.assertFalse(self._partners("C-R1"))

    def test_only_review_exceptions_are_approved(self):
        message = self._create_message(contact_event("C-R2", country_code="ZZ"))
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        with self.assertRaises(UserError):
            message.exception_ids.action_approve()

    def test_rule_of_another_backend_or_archived_does_not_apply(self):
        self.rule.backend_id = self._create_backend(name="Other")
        self.assertEqual(self._process("100000").state, "done")
        self.rule.write({"backend_id": False, "active": False})
        self.assertEqual(self._process("100000", "C-R3").state, "done")

    def test_a_rule_needs_a_limit(self):
        with self.assertRaises(UserError):
            self.rule.write({"maximum": 0, "usual_factor": 0})

    def test_an_integration_user_without_an_e_mail_address_approves_and_rejects(self):
        clerk = self.env["res.users"].create(
            {
                "name": "Clerk without e-mail",
                "login": "review-clerk",
                "groups_id": [(4, self.env.ref("integration_hub.integration_hub_group_user").id)],
            }
        )
        self.assertFalse(clerk.email)
        first, second = self._process("100000"), self._process("100000", "C-R4")
        first.exception_ids.with_user(clerk).action_approve()
        self.assertEqual(first.exception_ids.approved_by_id, clerk)
        self._perform_job(first)
        self.assertEqual(first.state, "done", first.last_error)
        second.exception_ids.with_user(clerk).action_reject()
        self.assertEqual(second.state, "cancelled")
        notes = first.exception_ids.message_ids.filtered(lambda m: "Approved by" in (m.body or ""))
        self.assertEqual(notes.author_id, clerk.partner_id)
