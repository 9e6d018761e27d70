import threading
import time
from datetime import timedelta

from odoo import fields, sql_db
from odoo.tests import TransactionCase, tagged

from . import test_processing
from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestInboundBatch(IntegrationHubCase, TransactionCase):
    """A processing job also processes the other ready incoming messages of its
    backend, each as its own job would."""

    _partner_writes_fail = test_processing.TestProcessing._partner_writes_fail

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    def _postpone(self, message):
        """As a failed attempt leaves a message: retrying, its job due in 10 minutes."""
        eta = fields.Datetime.now() + timedelta(minutes=10)
        job = message.job_id.sudo()
        job.with_context(_job_edit_sentinel=job.EDIT_SENTINEL).eta = eta
        message.write({"state": "retrying", "next_attempt_date": eta})

    def test_one_job_processes_the_ready_messages_of_its_backend(self):
        messages = [self._create_message(contact_event(f"C-{n}", f"Clinic {n}")) for n in range(3)]
        own_jobs = [m.job_id for m in messages]
        result = self._perform_job(messages[0])
        self.assertIn("2 more in this batch", result)
        self.assertEqual([m.state for m in messages], ["done"] * 3)
        self.assertEqual([m.attempt_count for m in messages], [1, 1, 1])
        self.assertEqual(self._partners("C-2").name, "Clinic 2")
        # Their own jobs are done and say which job processed them; so do the attempts.
        self.assertEqual({job.state for job in own_jobs}, {"done"})
        self.assertIn(own_jobs[0].uuid, own_jobs[2].result)
        self.assertEqual(messages[2].attempt_ids.job_uuid, own_jobs[0].uuid)

    def test_a_batch_takes_only_due_messages_of_its_own_backend(self):
        other_endpoint = self._create_endpoint(self._create_backend(name="Other system"))
        elsewhere = self._create_message(contact_event("C-9"), endpoint=other_endpoint)
        later = self._create_message(contact_event("C-8"))
        self._postpone(later)
        self._perform_job(self._create_message(contact_event("C-1")))
        for message in (elsewhere, later):
            self.assertEqual(message.attempt_count, 0)
            self.assertEqual(message.job_id.state, "pending")
        self.assertEqual((elsewhere.state, later.state), ("queued", "retrying"))

    def test_each_message_of_a_batch_has_its_own_outcome(self):
        refused = self._create_message(contact_event("C-1", country_code="QQ"))
        failing = self._create_message(contact_event("C-2"))
        fine = self._create_message(contact_event("C-3"))
        waiting = self._create_message(contact_event("C-4", parent_id="ORG-LATER"))
        failing_job, waiting_job = failing.job_id, waiting.job_id
        with self._partner_writes_fail(1):  # the first partner written: C-2's
            result = self._perform_job(refused)
        self.assertIn("2 more in this batch", result)
        # A business error opens its exception, as its own job would have.
        self.assertEqual(refused.state, "exception")
        self.assertEqual(refused.exception_ids.state, "open")
        # A technical error is retried by a new job, on the backend's schedule.
        self.assertEqual((failing.state, failing.attempt_count), ("retrying", 1))
        self.assertEqual(failing_job.state, "done")
        self.assertNotEqual(failing.job_id, failing_job)
        self.assertEqual(failing.job_id.state, "pending")
        self.assertEqual(failing.job_id.eta, failing.next_attempt_date)
        self.assertFalse(self._partners("C-2"))
        self.assertEqual(fine.state, "done")
        # A message waiting for a record is left untouched to its own job: the record
        # may be in another transaction the batch cannot see yet.
        self.assertEqual((waiting.state, waiting.attempt_count), ("queued", 0))
        self.assertEqual((waiting.job_id, waiting_job.state), (waiting_job, "pending"))
        self._perform_job(waiting)
        self.assertEqual((waiting.state, waiting.waiting_external_id), ("retrying", "ORG-LATER"))

    def test_messages_of_one_key_in_a_batch_are_processed_in_arrival_order(self):
        first = self._create_message(contact_event("C-1", "First name"))
        second = self._create_message(contact_event("C-1", "Second name"))
        third = self._create_message(contact_event("C-1", "Third name"))
        self._perform_job(first)
        self.assertEqual([m.state for m in (first, second, third)], ["done"] * 3)
        self.assertEqual(self._partners("C-1").name, "Third name")
        self.assertLess(second.attempt_ids.id, third.attempt_ids.id)

    def test_a_batch_leaves_a_message_whose_earlier_one_of_its_key_is_not_due(self):
        earlier = self._create_message(contact_event("C-1", "First name"))
        self._postpone(earlier)
        later = self._create_message(contact_event("C-1", "Second name"))
        result = self._perform_job(self._create_message(contact_event("C-2")))
        self.assertNotIn("in this batch", result)
        self.assertEqual((later.state, later.attempt_count), ("queued", 0))
        self.assertEqual(later.job_id.state, "pending")
        self.assertFalse(self._partners("C-1"))

    def test_one_message_per_job_when_the_backend_says_so(self):
        self.backend.batch_size = 1
        first, second = (self._create_message(contact_event(f"C-{n}")) for n in range(2))
        self._perform_job(first)
        self.assertEqual((first.state, second.state), ("done", "queued"))
        self.assertEqual(second.job_id.state, "pending")

    def test_a_message_stuck_behind_another_transactions_lock_is_left_to_its_own_job(self):
        # queue_job's runner, one thread for every channel, would wait for the batch's
        # locks: a batched message waits for a lock 2 s at most, then the batch goes on.
        refused = self._create_message(contact_event("C-1", country_code="QQ"))
        stuck = [self._create_message(contact_event(f"C-{n}")) for n in (2, 3)]
        self.env.flush_all()
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        other.execute("LOCK TABLE res_partner IN EXCLUSIVE MODE")
        # Released after 20 s whatever happens: without the timeout the batch would
        # wait that long, then write both partners.
        release = threading.Timer(20, other.rollback)
        release.start()
        try:
            started = time.monotonic()
            result = self._perform_job(refused)
            elapsed = time.monotonic() - started
        finally:
            release.cancel()
            other.rollback()
            other.close()
        self.assertEqual(refused.state, "exception")
        self.assertNotIn("in this batch", result)
        self.assertLess(elapsed, 15)
        for message in stuck:
            self.assertEqual((message.state, message.attempt_count), ("queued", 0))
            self.assertEqual(message.job_id.state, "pending")
        self.assertFalse(self._partners("C-2"))
        # The job's own statements are not limited afterwards.
        self.env.cr.execute("SHOW lock_timeout")
        self.assertEqual(self.env.cr.fetchone()[0], "0")
