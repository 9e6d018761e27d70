from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import OperationalError

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from ..exceptions import IntegrationBusinessError
from .common import IntegrationHubCase, contact_event, trap_jobs


@tagged("post_install", "-at_install")
class TestProcessing(IntegrationHubCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    @contextmanager
    def _partner_writes_fail(self, times, errcode="P0001"):
        """A real database fault: the next ``times`` partner writes raise an error
        (SQLSTATE ``errcode``; 40001 is what a concurrent update raises).

        A sequence counts the failures because, unlike a table, it is not rolled
        back with the failed attempt's savepoint.
        """
        cr = self.env.cr
        cr.execute("CREATE SEQUENCE ih_test_failures")
        cr.execute(
            f"""CREATE FUNCTION ih_test_fail_partner() RETURNS trigger AS $$
                BEGIN
                    IF nextval('ih_test_failures') <= {int(times)} THEN
                        RAISE EXCEPTION 'simulated database outage' USING ERRCODE = '{errcode}';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql"""
        )
        cr.execute(
            "CREATE TRIGGER ih_test_fail_partner BEFORE INSERT OR UPDATE ON res_partner "
            "FOR EACH ROW EXECUTE FUNCTION ih_test_fail_partner()"
        )
        try:
            yield
        finally:
            cr.execute("DROP TRIGGER ih_test_fail_partner ON res_partner")
            cr.execute("DROP FUNCTION ih_test_fail_partner()")
            cr.execute("DROP SEQUENCE ih_test_failures")

    def test_enqueue_puts_one_job_on_the_backend_channel_with_identity_key(self):
        with trap_jobs() as trap:
            message = self._create_message()
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                message._job_process,
                properties={
                    "channel": self.backend.channel_id.complete_name,
                    "identity_key": f"integration.message,{message.id},process",
                },
            )
        self.assertEqual(
            self.backend.channel_id.parent_id,
            self.env.ref("integration_hub.queue_job_channel_integration"),
        )

    def test_enqueue_twice_while_pending_makes_one_job(self):
        message = self._create_message()
        job = message.job_id
        message._enqueue()
        self.assertEqual(message.job_id, job)
        self.assertEqual(
            self.env["queue.job"].search_count([("identity_key", "=", job.identity_key)]), 1
        )

    def test_contact_upsert_creates_then_updates_one_partner(self):
        first = self._create_message(
            contact_event("C-1", "Northside", email="a@x.example", country_code="US")
        )
        self.assertIn("Done", self._perform_job(first))
        partner = self._partners("C-1")
        self.assertEqual(first.state, "done")
        self.assertEqual((first.result_model, first.result_res_id), ("res.partner", partner.id))
        self.assertEqual(
            (partner.name, partner.email, partner.country_id.code),
            ("Northside", "a@x.example", "US"),
        )
        self.assertEqual(first.attempt_ids.outcome, "done")
        second = self._create_message(contact_event("C-1", "Northside Clinic"))
        self._perform_job(second)
        self.assertEqual(self._partners("C-1"), partner)
        self.assertEqual(partner.name, "Northside Clinic")

    def test_replaying_a_done_message_creates_nothing_more(self):
        message = self._create_message(contact_event("C-2", "Replay Clinic"))
        self._perform_job(message)
        partners_before = self.env["res.partner"].search_count([])
        message.action_replay()
        self.assertEqual(message.state, "queued")
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 2)
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)

    def test_stale_update_is_skipped(self):
        newer = self._create_message(
            contact_event("C-3", "New name", updated_at="2026-11-21T10:00:00Z")
        )
        self._perform_job(newer)
        older = self._create_message(
            contact_event("C-3", "Old name", updated_at="2026-11-21T09:00:00+00:00")
        )
        self._perform_job(older)
        self.assertEqual(older.state, "done")
        partner = self._partners("C-3")
        self.assertEqual(partner.name, "New name")
        binding = self.env["integration.binding"].search([("external_id", "=", "C-3")])
        self.assertEqual(
            binding.external_updated_at, fields.Datetime.to_datetime("2026-11-21 10:00:00")
        )

    def test_unknown_fields_are_never_written(self):
        message = self._create_message(
            contact_event(
                "C-4", "Safe", comment="<script>", company_id=999, user_id=1, active=False
            )
        )
        self._perform_job(message)
        partner = self._partners("C-4")
        self.assertTrue(partner.active)
        self.assertFalse(partner.comment)
        self.assertFalse(partner.user_id)
        self.assertEqual(partner.company_id, self.env.company)

    def test_technical_error_retries_on_backoff_then_succeeds(self):
        message = self._create_message(contact_event("C-5", "Flaky"))
        with self._partner_writes_fail(times=1):
            before = fields.Datetime.now()
            result = self._perform_job(message)
            self.assertIn("next attempt in 10 s", result)
            self.assertEqual(message.state, "retrying")
            self.assertIn("simulated database outage", message.last_error)
            self.assertGreaterEqual(message.next_attempt_date, before + timedelta(seconds=10))
            self.assertEqual(message.job_id.eta, message.next_attempt_date)
            self.assertEqual(message.job_id.state, "pending")
            self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_ids.sorted("number").mapped("outcome"), ["failed", "done"])
        self.assertIn(
            "simulated database outage",
            message.attempt_ids.filtered(lambda a: a.number == 1).traceback,
        )
        self.assertEqual(len(self._partners("C-5")), 1)

    def test_concurrent_update_is_retried_by_queue_job_not_counted_as_an_attempt(self):
        message = self._create_message(contact_event("C-15", "Busy"))
        job = Job.load(self.env, message.job_id.uuid)
        with self._partner_writes_fail(times=1, errcode="40001"):
            # queue_job's runner catches it and runs the job again in a new transaction.
            with self.assertRaises(OperationalError) as caught:
                job.perform()
            self.assertEqual(caught.exception.pgcode, "40001")
            message.invalidate_recordset()
            self.assertEqual((message.state, message.attempt_count), ("queued", 0))
            self._perform_job(message)
        self.assertEqual((message.state, message.attempt_count), ("done", 1))

    def test_dead_after_max_attempts_then_replay_from_dead(self):
        message = self._create_message(contact_event("C-6", "Down"))
        with self._partner_writes_fail(times=99):
            for _attempt in range(3):
                self._perform_job(message)
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 3)
        self.assertFalse(message.next_attempt_date)
        self.assertFalse(self._partners("C-6"))
        message.action_replay()
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 4, "replay keeps the history of attempts")
        self.assertEqual(self._partners("C-6").name, "Down")

    def test_business_error_opens_exception_then_fix_and_retry_resolves_it(self):
        message = self._create_message(contact_event("C-7", "Border Clinic", country_code="ZZ"))
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        exception = message.exception_ids
        self.assertEqual((exception.kind, exception.state), ("unknown_record", "open"))
        self.assertIn("Unknown country code 'ZZ'", exception.explanation)
        self.assertFalse(self._partners("C-7"), "a business error leaves no half-made record")
        # The user fixes the cause, then retries from the exception.
        self.env["res.country"].create({"name": "Zedland", "code": "ZZ"})
        exception.action_retry()
        self.assertEqual(exception.state, "in_progress")
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(exception.state, "resolved")
        self.assertTrue(exception.resolved_date)
        self.assertIn("Retry requested", " ".join(exception.message_ids.mapped("body")))
        self.assertEqual(self._partners("C-7").country_id.code, "ZZ")

    def test_content_no_handler_can_store_becomes_an_exception_not_a_retry(self):
        # Stored before the door refused it (or by another adapter): a NUL in a name,
        # which PostgreSQL can never store, and a lone surrogate.
        for contact_id, name in (("C-NUL", "Jane\x00Doe"), ("C-SUR", "Jane\ud800")):
            with self.subTest(contact_id=contact_id):
                message = self._create_message(contact_event(contact_id, name))
                job = message.job_id
                self._perform_job(message)
                self.assertEqual(message.state, "exception")
                self.assertEqual(message.attempt_count, 1)
                self.assertEqual(message.exception_ids.kind, "validation")
                self.assertIn("malformed_json", message.exception_ids.explanation)
                self.assertEqual(message.job_id, job, "no retry is queued")
                self.assertFalse(message.next_attempt_date)
                self.assertFalse(self._partners(contact_id))

    def test_failed_retry_reopens_the_same_exception(self):
        message = self._create_message(contact_event("C-8", "Still bad", country_code="ZZ"))
        self._perform_job(message)
        exception = message.exception_ids
        exception.action_retry()
        self._perform_job(message)
        self.assertEqual(message.exception_ids, exception)
        self.assertEqual(exception.state, "open")

    def test_ignoring_an_exception_cancels_its_message(self):
        message = self._create_message(contact_event("C-9", "Ignored", country_code="ZZ"))
        self._perform_job(message)
        message.exception_ids.action_ignore()
        self.assertEqual(message.exception_ids.state, "ignored")
        self.assertEqual(message.state, "cancelled")
        with self.assertRaises(UserError):
            message.exception_ids.action_retry()

    def test_cancelled_message_job_does_nothing(self):
        message = self._create_message(contact_event("C-10", "Cancelled"))
        message.action_cancel()
        self.assertEqual(message.state, "cancelled")
        self.assertEqual(message.job_id.state, "cancelled")
        self.assertEqual(message._job_process(), "Nothing to do: the message is cancelled.")
        self.assertFalse(self._partners("C-10"))
        with self.assertRaises(UserError):
            message.action_cancel()

    def test_every_state_change_is_kept_on_the_message_with_its_author(self):
        self._track_changes()
        message = self._create_message(contact_event("C-12", "Tracked", country_code="ZZ"))
        message = message.with_env(self.env)
        self._perform_job(message)
        replayer = new_test_user(
            self.env, "ih_replayer", groups="integration_hub.integration_hub_group_manager"
        )
        message.with_user(replayer).action_replay()
        self._end_transaction()
        message.with_user(replayer).action_cancel()
        self._end_transaction()
        changes = [
            (
                tracking.mail_message_id.author_id,
                tracking.old_value_char,
                tracking.new_value_char,
            )
            for tracking in message.message_ids.tracking_value_ids.sorted("id")
        ]
        self.assertEqual(
            [(old, new) for _author, old, new in changes],
            [("Queued", "Exception"), ("Exception", "Queued"), ("Queued", "Cancelled")],
        )
        self.assertEqual(changes[1][0], replayer.partner_id)

    def test_automatic_success_is_kept_by_its_attempt_not_tracked_in_the_chatter(self):
        self._track_changes()
        message = self._create_message(contact_event("C-13", "Quiet")).with_env(self.env)
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(message.attempt_ids.mapped("outcome"), ["done"])
        self.assertFalse(message.message_ids.tracking_value_ids)

    def test_replay_refuses_pending_messages(self):
        message = self._create_message()
        with self.assertRaisesRegex(UserError, "Only dead, exception, done or ignored"):
            message.action_replay()

    def test_paused_backend_postpones_without_using_an_attempt(self):
        message = self._create_message()
        self.backend.action_pause()
        with self.assertRaises(RetryableJobError) as caught:
            message._job_process()
        self.assertTrue(caught.exception.ignore_retry)
        self.assertEqual(message.attempt_count, 0)

    def test_message_whose_job_failed_is_marked_dead_by_the_cron(self):
        message = self._create_message()
        # As queue_job's runner does for a job whose worker died too often: in SQL.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'failed', exc_name = 'JobFoundDead' WHERE id = %s",
            (message.job_id.id,),
        )
        self.env.invalidate_all()
        self.env["integration.message"]._cron_reconcile_jobs()
        self.assertEqual(message.state, "dead")
        self.assertIn("its worker stopped too many times", message.last_error)
        self.assertNotIn("JobFoundDead", message.last_error, "no class names on screen")

    def test_contact_is_created_in_the_backend_company(self):
        other_company = self.env["res.company"].create({"name": "Clinic Group B"})
        backend = self._create_backend(company_id=other_company.id)
        endpoint = self._create_endpoint(backend)
        message = self._create_message(
            contact_event("C-11", "Company B contact"), endpoint=endpoint
        )
        self.assertEqual(message.company_id, other_company)
        self._perform_job(message)
        self.assertEqual(self._partners("C-11", backend).company_id, other_company)
        self.assertFalse(self._partners("C-11"), "bindings are per backend")

    def test_code_maps_resolve_per_backend_and_unmapped_codes_are_business_errors(self):
        message = self._create_message()
        handler = self.env["integration.handler"]
        country = self.env.ref("base.fr")
        self.env["integration.code.map"].create(
            {
                "backend_id": self.backend.id,
                "kind": "test_region",
                "external_code": "CLINIC-N",
                "record_ref": f"res.country,{country.id}",
            }
        )
        self.assertEqual(handler._map_code(message, "test_region", "CLINIC-N"), country)
        other_backend = self._create_backend()
        other_message = self._create_message(endpoint=self._create_endpoint(other_backend))
        with self.assertRaises(IntegrationBusinessError) as caught:
            handler._map_code(other_message, "test_region", "CLINIC-N")
        self.assertEqual(caught.exception.kind, "unmapped_code")
        self.assertIn(
            "The test_region code 'CLINIC-N' of Test scheduling is not mapped",
            str(caught.exception),
        )

    def test_invalid_backoff_schedule_is_refused(self):
        with self.assertRaisesRegex(Exception, "Backoff schedule"):
            self.backend.backoff_schedule = "10, later"
