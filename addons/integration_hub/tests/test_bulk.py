from odoo.tests import Form, TransactionCase, tagged

from odoo.addons.queue_job.job import Job

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


@tagged("post_install", "-at_install")
class TestBulkByFilter(IntegrationHubCase, TransactionCase):
    """Select all on a filter (a backend's dead messages between two dates): thousands
    of messages are replayed by chunked jobs, with their progress."""

    COUNT = 2000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        template = cls._create_message(contact_event("C-BULK"))
        template.write({"state": "dead", "job_id": False})
        cls.env.flush_all()
        # Thousands of dead messages in one statement, as old as the filter's dates.
        cls.env.cr.execute(
            """INSERT INTO integration_message
                   (direction, backend_id, endpoint_id, company_id, event_type, event_type_id,
                    sender_message_id, reference, payload, payload_sha256, state,
                    source_format, duplicate_count, create_date, write_date, create_uid,
                    write_uid)
               SELECT direction, backend_id, endpoint_id, company_id, event_type,
                      event_type_id, 'bulk-' || g, reference, payload, payload_sha256, 'dead',
                      source_format, 0, '2026-03-10 12:00:00', '2026-03-10 12:00:00',
                      create_uid, write_uid
                 FROM integration_message, generate_series(1, %s) g
                WHERE id = %s""",
            (cls.COUNT, template.id),
        )
        cls.done = cls._create_message(contact_event("C-DONE"))
        cls.done.write({"state": "done"})
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE integration_message SET create_date = '2026-03-11' WHERE id = %s",
            (cls.done.id,),
        )
        cls.filter = [
            ("backend_id", "=", cls.backend.id),
            ("state", "in", ("dead", "done")),
            ("create_date", ">=", "2026-03-01 00:00:00"),
            ("create_date", "<", "2026-04-01 00:00:00"),
        ]

    def _wizard(self):
        # As the web client calls it after "Select all": the ids it found, and the filter.
        ids = self.env["integration.message"].search(self.filter).ids
        return (
            self.env["integration.message.bulk"]
            .with_context(
                active_model="integration.message",
                active_ids=ids,
                active_domain=self.filter,
                default_operation="replay",
            )
            .create({})
        )

    def _run_chunks(self, run):
        for number in range(1, run.chunk_count + 1):
            job = self.env["queue.job"].search(
                [("identity_key", "=", f"integration.message.bulk.run,{run.id},{number}")]
            )
            self.assertEqual(len(job), 1)
            Job.load(self.env, job.uuid).perform()
            run.invalidate_recordset()

    def test_replay_by_filter_runs_in_chunks_with_progress(self):
        wizard = self._wizard()
        self.assertTrue(wizard.domain, "the whole filter is selected")
        self.assertFalse(wizard.message_ids)
        self.assertEqual(wizard.summary, f"1 done\n{self.COUNT} dead")
        self.assertEqual(wizard.applicable_count, self.COUNT)
        self.assertEqual(wizard.skipped_summary, "1 done")
        self.assertTrue(wizard.in_background)
        action = wizard.action_confirm()
        run = self.env["integration.message.bulk.run"].browse(action["res_id"])
        self.assertEqual(
            (run.message_count, run.chunk_count, run.state), (self.COUNT, 4, "running")
        )
        self.assertEqual(run.progress, 0)
        messages = self.env["integration.message"].search(self.filter)
        self.assertEqual(messages.filtered(lambda m: m.state == "dead").ids, messages.ids[1:])
        # One message is processed meanwhile: its chunk leaves it alone.
        first = self.env["integration.message"].search(
            [*self.filter, ("state", "=", "dead")], order="id", limit=1
        )
        first.state = "done"
        self._run_chunks(run)
        self.assertEqual(run.state, "done")
        self.assertEqual((run.done_count, run.skipped_count), (self.COUNT - 1, 1))
        self.assertEqual(run.progress, 100)
        states = dict(
            self.env["integration.message"]._read_group(self.filter, ["state"], ["__count"])
        )
        self.assertEqual(states, {"done": 2}, "the filter's dead messages are all queued")
        queued = self.env["integration.message"].search_count(
            [("backend_id", "=", self.backend.id), ("state", "=", "queued")]
        )
        self.assertEqual(queued, self.COUNT - 1)
        self.assertEqual(self.done.state, "done", "done messages are not sent again")

    def test_a_page_selection_keeps_to_its_rows(self):
        ids = self.env["integration.message"].search(self.filter, limit=3).ids
        wizard = (
            self.env["integration.message.bulk"]
            .with_context(
                active_model="integration.message",
                active_ids=ids,
                active_domain=self.filter,
                default_operation="replay",
            )
            .create({})
        )
        self.assertFalse(wizard.domain)
        self.assertEqual(len(wizard.message_ids), 3)
        self.assertFalse(wizard.in_background)
