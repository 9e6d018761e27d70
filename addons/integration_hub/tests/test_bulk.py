from odoo.tests import Form, TransactionCase, tagged

from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestBulkActions(IntegrationHubCase, TransactionCase):
    """Replay and Cancel on a selection say what they will do and skip what they cannot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.messages = {}
        for state in ("done", "dead", "exception", "queued"):
            message = cls._create_message(contact_event(f"C-{state}"))
            message.write({"state": state})
            cls.messages[state] = message
        cls.selection = cls.env["integration.message"].browse(
            [message.id for message in cls.messages.values()]
        )

    def _wizard(self, operation, **values):
        form = Form(
            self.env["integration.message.bulk"].with_context(
                active_model="integration.message",
                active_ids=self.selection.ids,
                default_operation=operation,
            )
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def test_bulk_replay_counts_by_state_and_leaves_done_messages_alone(self):
        wizard = self._wizard("replay")
        self.assertEqual(wizard.summary, "1 queued\n1 done\n1 exception\n1 dead")
        self.assertEqual(wizard.applicable_count, 2)
        self.assertEqual(wizard.skipped_summary, "1 queued\n1 done")
        done_job = self.messages["done"].job_id
        result = wizard.action_confirm()
        self.assertIn("2 messages queued again", result["params"]["message"])
        self.assertIn("2 left as they were", result["params"]["message"])
        self.assertEqual(self.messages["dead"].state, "queued")
        self.assertEqual(self.messages["exception"].state, "queued")
        self.assertEqual(self.messages["done"].state, "done")
        self.assertEqual(self.messages["done"].job_id, done_job, "a done message is not re-sent")

    def test_bulk_replay_sends_done_messages_again_only_when_asked(self):
        wizard = self._wizard("replay", include_done=True)
        self.assertEqual(wizard.applicable_count, 3)
        wizard.action_confirm()
        self.assertEqual(self.messages["done"].state, "queued")

    def test_bulk_cancel_with_a_done_row_cancels_the_others_without_failing(self):
        wizard = self._wizard("cancel")
        self.assertEqual(wizard.applicable_count, 3)
        result = wizard.action_confirm()
        self.assertIn("3 messages cancelled", result["params"]["message"])
        self.assertEqual(self.messages["done"].state, "done")
        for state in ("dead", "exception", "queued"):
            self.assertEqual(self.messages[state].state, "cancelled")
