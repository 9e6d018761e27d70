import base64
import json
import logging
import time
import uuid
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg2 import IntegrityError

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from .. import delivery, signatures
from .common import HMAC_SECRET, IntegrationHubCase, RealRequestsMixin, trap_jobs


@tagged("post_install", "-at_install")
class TestOutbound(RealRequestsMixin, IntegrationHubCase, TransactionCase):
    """Outbound delivery against a real HTTP server on 127.0.0.1 (tests/receiver.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.contact_out = cls.env.ref("integration_hub.integration_event_type_contact_upserted_out")
        cls.receiver = cls._serve_outbound(
            cls.backend, outbound_read_timeout=2, circuit_failure_threshold=3
        )
        cls.subscription = cls._subscribe()
        cls.partner = cls.env["res.partner"].create(
            {"name": "Northside Clinic", "email": "desk@northside.example", "city": "Lyon"}
        )

    def setUp(self):
        super().setUp()
        self.receiver.requests.clear()
        self.receiver._answers.clear()
        self.receiver.token_requests = 0

    @classmethod
    def _subscribe(cls, backend=None, **values):
        return cls.env["integration.subscription"].create(
            dict(
                {"backend_id": (backend or cls.backend).id, "event_type_id": cls.contact_out.id},
                **values,
            )
        )

    def _emit(self, records=None, commit=True):
        """Emit as a flow would, then run what a commit runs: the new messages."""
        last = self.env["integration.message"].search([], order="id desc", limit=1).id or 0
        (records or self.partner)._integration_emit("contact.upserted")
        if commit:
            self._end_transaction()
        return self.env["integration.message"].search(
            [("id", ">", last), ("direction", "=", "out")]
        )

    def _deliver(self, message):
        """Run the message's current delivery job as the job runner would."""
        return self._perform_job(message)

    # Emitting ------------------------------------------------------------------------

    def test_emit_writes_one_message_per_subscription_and_queues_its_delivery(self):
        other_backend = self._create_backend(
            name="Billing", outbound_url="https://billing.example/h"
        )
        self._subscribe(backend=other_backend)
        with trap_jobs() as trap:
            messages = self._emit()
        self.assertEqual(len(messages), 2)
        self.assertEqual(set(messages.mapped("direction")), {"out"})
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertEqual(messages.backend_id, self.backend | other_backend)
        trap.assert_jobs_count(2)
        self.assertEqual(
            {job.channel for job in trap.enqueued_jobs},
            {self.backend.channel_id.complete_name, other_backend.channel_id.complete_name},
        )
        body = json.loads(messages[0].payload)
        self.assertEqual(body["type"], "contact.upserted")
        self.assertEqual(body["version"], 1)
        self.assertEqual(body["data"]["id"], str(self.partner.id))
        self.assertEqual(body["data"]["email"], "desk@northside.example")

    def test_emit_without_subscription_writes_nothing(self):
        self.subscription.active = False
        with trap_jobs() as trap:
            messages = self._emit()
        self.assertFalse(messages)
        trap.assert_jobs_count(0)

    def test_messages_are_written_at_commit_and_a_rollback_emits_nothing(self):
        def counts():
            return (
                self.env["integration.message"].search_count([]),
                self.env["queue.job"].search_count([]),
            )

        before = counts()
        self.partner._integration_emit("contact.upserted")
        self.env.flush_all()
        self.assertEqual(counts(), before, "nothing is written before the commit")
        # A rollback drops what was noted: Cursor.rollback() clears the precommit hooks.
        self.env.cr.precommit.clear()
        self._end_transaction()
        self.assertEqual(counts(), before)
        # The same emit, committed, writes its message and job.
        self._emit()
        self.assertEqual(counts(), (before[0] + 1, before[1] + 1))

    def test_a_record_emitted_twice_in_a_transaction_is_sent_once_as_committed(self):
        self._emit(commit=False)
        self.partner.city = "Grenoble"
        message = self._emit()
        self.assertEqual(len(message), 1)
        self.assertEqual(json.loads(message.payload)["data"]["city"], "Grenoble")

    def test_a_change_trigger_sends_one_message_per_save_in_the_last_state(self):
        self.subscription.write({"trigger": "on_create_or_write"})
        partner = self.env["res.partner"].create({"name": "Saved", "city": "Lyon"})
        partner.write({"city": "Grenoble"})
        partner.write({"phone": "+33 4 00 00 00 00"})
        self._end_transaction()
        messages = self.env["integration.message"].search(
            [("subscription_id", "=", self.subscription.id)]
        )
        self.assertEqual(len(messages), 1)
        data = json.loads(messages.payload)["data"]
        self.assertEqual((data["city"], data["phone"]), ("Grenoble", "+33 4 00 00 00 00"))

    def test_filter_domain_keeps_other_records_out(self):
        self.subscription.filter_domain = "[('city', '=', 'Paris')]"
        self.assertFalse(self._emit())
        self.partner.city = "Paris"
        self.assertEqual(len(self._emit()), 1)

    def test_invalid_filter_domain_is_refused_with_a_clear_error(self):
        with self.assertRaisesRegex(Exception, "not a valid domain"):
            self.subscription.filter_domain = "[('no_such_field', '=', 1)]"

    def test_redacted_and_unselected_fields_never_leave_odoo(self):
        self.subscription.write({"field_names": "name, email, city", "redact_field_names": "email"})
        message = self._emit()
        self.assertNotIn("desk@northside.example", message.payload)
        self._deliver(message)
        self.assertEqual(message.state, "done")
        sent = self.receiver.requests[0]
        self.assertNotIn(b"desk@northside.example", sent.body)
        self.assertEqual(
            sent.json["data"],
            {"id": str(self.partner.id), "name": "Northside Clinic", "city": "Lyon"},
        )

    def test_change_trigger_emits_on_creation_like_an_automation_rule(self):
        self.subscription.write({"trigger": "on_create_or_write"})
        self.assertTrue(self.subscription.automation_id)
        partner = self.env["res.partner"].create({"name": "Created in Odoo"})
        self._end_transaction()
        message = self.env["integration.message"].search(
            [("subscription_id", "=", self.subscription.id), ("result_res_id", "=", partner.id)]
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(json.loads(message.payload)["data"]["name"], "Created in Odoo")
        # An emitting flow does not reach a change-triggered subscription twice.
        self.assertFalse(self._emit(partner))

    # Delivering ----------------------------------------------------------------------

    def test_delivery_is_signed_and_verified_by_the_receiver(self):
        message = self._emit()
        self._deliver(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.receiver.requests), 1)
        sent = self.receiver.requests[0]
        self.assertTrue(sent.verified, "standardwebhooks rejected the signature")
        self.assertEqual(sent.path, "/hooks")
        self.assertEqual(sent.headers["webhook-id"], message.sender_message_id)
        self.assertEqual(sent.body.decode(), message.payload)
        attempt = message.attempt_ids
        self.assertEqual((attempt.status_code, attempt.outcome), (200, "done"))
        self.assertIn("ok", attempt.response_excerpt)

    def test_ed25519_signature_verifies_with_the_public_key_shown(self):
        self.backend.action_generate_signing_key()
        self.assertTrue(self.backend.outbound_public_key.startswith("whpk_"))
        message = self._emit()
        self._deliver(message)
        sent = self.receiver.requests[0]
        public = Ed25519PublicKey.from_public_bytes(
            signatures.decode_key(self.backend.outbound_public_key)
        )
        v1a = [s for s in sent.headers["webhook-signature"].split() if s.startswith("v1a,")]
        self.assertEqual(len(v1a), 1)
        content = signatures.signed_content(
            sent.headers["webhook-id"], sent.headers["webhook-timestamp"], sent.body
        )
        public.verify(base64.b64decode(v1a[0][4:]), content)  # raises if wrong
        self.assertTrue(sent.verified)  # the v1 signature is still there

    def test_500_then_200_is_retried_with_the_same_id_and_delivered_once(self):
        self.receiver.script(500, 200)
        message = self._emit()
        self._deliver(message)
        self.assertEqual(message.state, "retrying")
        self.assertGreater(message.next_attempt_date, fields.Datetime.now())
        self._deliver(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_ids.sorted("number").mapped("status_code"), [500, 200])
        ids = {r.headers["webhook-id"] for r in self.receiver.requests}
        self.assertEqual(ids, {message.sender_message_id})
        self.assertTrue(all(r.verified for r in self.receiver.requests))
        self.assertEqual(self.backend.circuit_failures, 0)

    def test_timeout_is_retried(self):
        self.backend.outbound_read_timeout = 0.3
        self.receiver.script((200, {}, 1.5))
        message = self._emit()
        self._deliver(message)
        self.assertEqual(message.state, "retrying")
        self.assertIn("Timeout", message.last_error)

    def test_429_waits_at_least_retry_after_and_does_not_open_the_circuit(self):
        self.backend.circuit_failure_threshold = 1
        self.receiver.script((429, {"Retry-After": "120"}))
        message = self._emit()
        before = fields.Datetime.now()
        self._deliver(message)
        self.assertEqual(message.state, "retrying")
        self.assertGreaterEqual(message.next_attempt_date, before + timedelta(seconds=119))
        self.assertEqual(message.job_id.eta, message.next_attempt_date)
        self.assertEqual(self.backend.circuit_state, "closed")

    def test_400_is_dead_at_once_without_retry(self):
        self.receiver.script(400)
        message = self._emit()
        with trap_jobs() as trap:
            self._deliver(message)
            trap.assert_jobs_count(0)
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 1)
        self.assertEqual(message.last_error, "HTTP 400")

    def test_redirect_is_not_followed(self):
        self.receiver.script((302, {"Location": "http://169.254.169.254/latest"}))
        message = self._emit()
        self._deliver(message)
        self.assertEqual(message.state, "dead")
        self.assertIn("not followed", message.last_error)
        self.assertEqual(len(self.receiver.requests), 1)

    def test_410_disables_the_subscription_and_tells_the_owner(self):
        self.receiver.script(410)
        first, second = self._emit(), self._emit()  # explicit emits are each sent
        self.assertNotEqual(first, second)
        self._deliver(first)
        self.assertEqual(first.state, "dead")
        self.assertFalse(self.subscription.active)
        self.assertIn("410", self.subscription.disabled_reason)
        note = self.backend.message_ids.filtered(lambda m: "410 Gone" in (m.body or ""))
        self.assertIn(self.backend.user_id.partner_id, note.partner_ids)
        # What was already queued is kept (dead, replayable), not sent.
        self._deliver(second)
        self.assertEqual(second.state, "dead")
        self.assertIn("disabled", second.last_error)
        self.assertEqual(len(self.receiver.requests), 1)
        self.assertFalse(self._emit())

    def test_circuit_opens_after_failures_and_a_good_probe_closes_it_nothing_lost(self):
        self.receiver.script(503, 503, 503)
        messages = [self._emit() for _ in range(4)]
        for message in messages[:3]:
            self._deliver(message)
        self.assertEqual(self.backend.circuit_state, "open")
        self.assertEqual(self.backend.circuit_failures, 3)
        # While open, deliveries wait: nothing sent, no attempt used.
        with self.assertRaises(RetryableJobError):
            self._deliver(messages[3])
        self.assertEqual(len(self.receiver.requests), 3)
        self.assertEqual((messages[3].state, messages[3].attempt_count), ("queued", 0))
        # After the cool-down one probe goes; its success closes the circuit.
        self.env.cr.execute(
            "UPDATE integration_backend_circuit SET opened_at = opened_at - interval '2 minutes' "
            "WHERE backend_id = %s",
            (self.backend.id,),
        )
        self._deliver(messages[3])
        self.assertEqual(messages[3].state, "done")
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.circuit_state, "closed")
        for message in messages[:3]:
            self._deliver(message)
        self.assertEqual({m.state for m in messages}, {"done"})
        delivered = [r.headers["webhook-id"] for r in self.receiver.requests[3:]]
        self.assertCountEqual(delivered, [m.sender_message_id for m in messages])

    def test_failed_probe_opens_the_circuit_again(self):
        self.backend.circuit_failure_threshold = 1
        self.receiver.script(500, 500)
        first, second = self._emit(), self._emit()
        self._deliver(first)
        self.env.cr.execute(
            "UPDATE integration_backend_circuit SET opened_at = opened_at - interval '2 minutes' "
            "WHERE backend_id = %s",
            (self.backend.id,),
        )
        self._deliver(second)  # the probe
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.circuit_state, "open")
        # Opened again now: in a test the side cursor is the test's transaction, whose
        # now() is when the class's transaction began, not the wall clock.
        self.assertGreater(
            self.backend.circuit_opened_date, self.env.cr.now() - timedelta(seconds=30)
        )

    def test_backend_failing_for_too_long_is_paused_and_its_owner_told(self):
        self.backend.write({"pause_after_failing_hours": 1, "circuit_failure_threshold": 10})
        self.receiver.script(500, 500)
        self._deliver(self._emit())
        self.assertEqual(self.backend.state, "active")
        self.env.cr.execute(
            "UPDATE integration_backend_circuit "
            "SET failing_since = failing_since - interval '2 hours' WHERE backend_id = %s",
            (self.backend.id,),
        )
        message = self._emit()
        self._deliver(message)
        self.assertEqual(self.backend.state, "paused")
        note = self.backend.message_ids.filtered(lambda m: "was paused" in (m.body or ""))
        self.assertIn(self.backend.user_id.partner_id, note.partner_ids)
        # Its messages wait for it, they are not lost.
        with self.assertRaises(RetryableJobError):
            self._deliver(message)
        self.assertEqual(message.state, "retrying")

    def test_ordered_subscription_delivers_the_messages_of_a_record_in_order(self):
        self.subscription.ordered = True
        other = self.env["res.partner"].create({"name": "Other record"})
        self.receiver.script(500)
        first = self._emit()
        self.partner.name = "Second version"
        second = self._emit()
        unrelated = self._emit(other)
        self._deliver(first)
        self.assertEqual(first.state, "retrying")
        # The second waits for the first: nothing sent, no attempt used...
        with self.assertRaises(RetryableJobError):
            self._deliver(second)
        self.assertEqual(second.attempt_count, 0)
        # ... while another record's message is not held up.
        self._deliver(unrelated)
        self.assertEqual(unrelated.state, "done")
        self._deliver(first)
        self._deliver(second)
        names = [r.json["data"]["name"] for r in self.receiver.requests[1:]]
        self.assertEqual(names, ["Other record", "Northside Clinic", "Second version"])

    def test_unordered_subscription_does_not_wait(self):
        self.receiver.script(500)
        first, second = self._emit(), self._emit()
        self._deliver(first)
        self._deliver(second)
        self.assertEqual((first.state, second.state), ("retrying", "done"))

    # Batches ---------------------------------------------------------------------

    def test_one_job_delivers_the_ready_messages_of_its_backend_each_signed_afresh(self):
        messages = [self._emit() for _ in range(3)]
        own_jobs = [m.job_id for m in messages]
        result = self._deliver(messages[0])
        self.assertIn("2 more in this batch", result)
        self.assertEqual({m.state for m in messages}, {"done"})
        self.assertEqual([m.attempt_count for m in messages], [1, 1, 1])
        # Each message was signed with its own id and verified by the receiver.
        self.assertEqual(
            [r.headers["webhook-id"] for r in self.receiver.requests],
            [m.sender_message_id for m in messages],
        )
        self.assertTrue(all(r.verified for r in self.receiver.requests))
        # The batched messages' own jobs are done, and say which job delivered them.
        self.assertEqual({job.state for job in own_jobs}, {"done"})
        self.assertIn(own_jobs[0].uuid, own_jobs[1].result)
        self.assertEqual(set(messages[1].attempt_ids.mapped("job_uuid")), {own_jobs[0].uuid})

    def test_a_failure_in_a_batch_does_not_affect_the_other_messages(self):
        self.receiver.script(200, 400, 500, 200)
        messages = [self._emit() for _ in range(4)]
        self._deliver(messages[0])
        # A refused message is dead alone; a delivery to retry ends the batch, and the
        # next message waits untouched for its own job.
        self.assertEqual([m.state for m in messages], ["done", "dead", "retrying", "queued"])
        self.assertEqual([m.attempt_count for m in messages], [1, 1, 1, 0])
        self.assertEqual(messages[3].job_id.state, "pending")
        retry_job = messages[2].job_id
        self.assertEqual(retry_job.state, "pending")
        self.assertEqual(retry_job.eta, messages[2].next_attempt_date)
        self._deliver(messages[3])
        self.assertEqual(messages[3].state, "done")
        self.assertEqual(messages[2].state, "retrying")  # its next attempt is not due

    def test_a_batch_stops_when_the_circuit_opens_and_the_rest_wait_for_their_jobs(self):
        self.backend.circuit_failure_threshold = 1
        self.receiver.script(503)
        messages = [self._emit() for _ in range(3)]
        self._deliver(messages[0])
        self.assertEqual(self.backend.circuit_state, "open")
        self.assertEqual(len(self.receiver.requests), 1)
        for message in messages[1:]:
            self.assertEqual((message.state, message.attempt_count), ("queued", 0))
            self.assertEqual(message.job_id.state, "pending")

    def test_a_batch_never_takes_a_message_waiting_for_its_next_attempt(self):
        self.receiver.script(500)
        first = self._emit()
        self._deliver(first)
        self.assertEqual(first.state, "retrying")
        second = self._emit()
        self._deliver(second)
        self.assertEqual((first.state, first.attempt_count), ("retrying", 1))
        self.assertEqual(len(self.receiver.requests), 2)

    def test_a_batch_leaves_a_message_waiting_for_an_earlier_one_of_its_record(self):
        self.subscription.ordered = True
        other = self.env["res.partner"].create({"name": "Other record"})
        self.receiver.script(500)
        first = self._emit()
        self._deliver(first)
        self.assertEqual(first.state, "retrying")
        second = self._emit()
        unrelated = self._emit(other)
        self._deliver(unrelated)
        self.assertEqual(unrelated.state, "done")
        # The batch took the second message of the record but could not send it before
        # the first: it is untouched, its own job still waits.
        self.assertEqual((second.state, second.attempt_count), ("queued", 0))
        self.assertEqual(second.job_id.state, "pending")
        self.assertEqual(len(self.receiver.requests), 2)

    def test_a_refusal_in_the_middle_of_a_batch_leaves_the_others_done(self):
        self.receiver.script(200, 200, 400, 200, 200)
        messages = [self._emit() for _ in range(5)]
        result = self._deliver(messages[0])
        self.assertIn("4 more in this batch", result)
        self.assertEqual([m.state for m in messages], ["done", "done", "dead", "done", "done"])
        self.assertEqual([m.attempt_count for m in messages], [1] * 5)
        self.assertEqual([m.last_status_code for m in messages], [200, 200, 400, 200, 200])
        self.assertEqual(messages[2].last_error, "HTTP 400")
        self.assertEqual({m.job_state for m in messages}, {"done"})
        # Each message keeps the headers it was sent with, its own id among them.
        for message in messages:
            self.assertEqual(json.loads(message.headers)["webhook-id"], message.sender_message_id)

    def test_a_taken_over_job_is_done_once_and_its_message_is_never_sent_again(self):
        messages = [self._emit() for _ in range(3)]
        own_jobs = [m.job_id for m in messages]
        self._deliver(messages[0])
        for message, job in zip(messages[1:], own_jobs[1:], strict=True):
            self.assertEqual((job.state, message.job_state), ("done", "done"))
            self.assertTrue(job.date_done)
            self.assertEqual(message.job_id, job)  # no other job was queued for it
        # Should the runner still start a taken-over job, it finds nothing to do.
        self.assertIn("Nothing to do", self._deliver(messages[1]))
        ids = [r.headers["webhook-id"] for r in self.receiver.requests]
        self.assertCountEqual(ids, [m.sender_message_id for m in messages])
        self.assertEqual([m.attempt_count for m in messages], [1, 1, 1])

    def test_an_ordered_pair_in_one_batch_arrives_in_order(self):
        self.subscription.ordered = True
        other = self.env["res.partner"].create({"name": "Other record"})
        unrelated = self._emit(other)
        first = self._emit()
        self.partner.name = "Second version"
        second = self._emit()
        result = self._deliver(unrelated)
        self.assertIn("2 more in this batch", result)
        self.assertEqual((first.state, second.state), ("done", "done"))
        names = [r.json["data"]["name"] for r in self.receiver.requests]
        self.assertEqual(names, ["Other record", "Northside Clinic", "Second version"])

    def test_an_ordered_message_waits_when_its_predecessor_fails_in_the_same_batch(self):
        self.subscription.ordered = True
        other = self.env["res.partner"].create({"name": "Other record"})
        self.receiver.script(200, 500)
        unrelated = self._emit(other)
        first = self._emit()
        self.partner.name = "Second version"
        second = self._emit()
        self._deliver(unrelated)
        self.assertEqual(first.state, "retrying")
        self.assertEqual((second.state, second.attempt_count), ("queued", 0))
        self.assertEqual(second.job_id.state, "pending")
        self.assertEqual(len(self.receiver.requests), 2)

    def test_an_unexpected_error_in_a_batch_leaves_that_message_to_its_own_job(self):
        messages = [self._emit() for _ in range(3)]
        # A message the batch cannot even read (no payload) fails in the batch...
        self.env.cr.execute(
            "UPDATE integration_message SET payload = NULL WHERE id = %s", (messages[1].id,)
        )
        messages[1].invalidate_recordset(["payload"])
        with mute_logger("odoo.addons.integration_hub.models.integration_message_outbound"):
            result = self._deliver(messages[0])
        self.assertIn("1 more in this batch", result)
        # ... and is left untouched to its own job, while the others are delivered.
        self.assertEqual([m.state for m in messages], ["done", "queued", "done"])
        self.assertEqual((messages[1].attempt_count, messages[1].job_id.state), (0, "pending"))
        self.assertEqual(messages[2].job_id.state, "done")

    def test_a_batch_whose_writing_fails_writes_each_message_alone(self):
        messages = [self._emit() for _ in range(4)]
        # PostgreSQL refuses to mark one of them done (a trigger of this test's
        # transaction): the batch's common write fails, then that message's own.
        self.env.cr.execute(
            """CREATE FUNCTION pg_temp.integration_test_refuse() RETURNS trigger AS $$
               BEGIN
                   IF NEW.id = %s AND NEW.state = 'done' THEN RAISE EXCEPTION 'refused'; END IF;
                   RETURN NEW;
               END $$ LANGUAGE plpgsql;
               CREATE TRIGGER integration_test_refuse BEFORE UPDATE ON integration_message
                  FOR EACH ROW EXECUTE FUNCTION pg_temp.integration_test_refuse()""",
            (messages[2].id,),
        )
        with mute_logger(
            "odoo.sql_db", "odoo.addons.integration_hub.models.integration_message_outbound"
        ):
            result = self._deliver(messages[0])
        self.assertIn("2 more in this batch", result)
        self.assertEqual([m.state for m in messages], ["done", "done", "queued", "done"])
        # The refused one is left to its own job (which sends it again): no attempt kept.
        self.assertEqual((messages[2].attempt_count, messages[2].job_id.state), (0, "pending"))
        self.assertEqual([m.job_id.state for m in messages[1::2]], ["done", "done"])
        self.assertEqual([m.attempt_count for m in messages[1::2]], [1, 1])

    def test_a_batch_counts_its_successes_then_a_failure_at_once(self):
        self.backend.circuit_failure_threshold = 2
        self.receiver.script(200, 200, 503)
        messages = [self._emit() for _ in range(4)]
        self._deliver(messages[0])
        self.backend.invalidate_recordset()
        # The success before it reset the count: one failure, the circuit still closed.
        self.assertEqual((self.backend.circuit_state, self.backend.circuit_failures), ("closed", 1))
        self.assertTrue(self.backend.last_delivery_success_date)
        self.assertEqual([m.state for m in messages], ["done", "done", "retrying", "queued"])

    def test_batch_size_one_delivers_only_the_jobs_own_message(self):
        self.backend.outbound_batch_size = 1
        first, second = self._emit(), self._emit()
        self._deliver(first)
        self.assertEqual((first.state, second.state), ("done", "queued"))
        self.assertEqual(second.job_id.state, "pending")

    def test_batch_size_below_one_is_refused(self):
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.backend.outbound_batch_size = 0
            self.backend.flush_recordset()

    def test_private_target_is_refused_unless_the_backend_allows_it(self):
        self.backend.outbound_allow_private = False
        message = self._emit()
        self._deliver(message)
        self.assertEqual(message.state, "dead")
        self.assertIn("Refused target", message.last_error)
        self.assertFalse(self.receiver.requests)

    def test_replay_sends_the_same_webhook_id_with_a_fresh_signature(self):
        self.receiver.script(400, 200)
        message = self._emit()
        self._deliver(message)
        self.assertEqual(message.state, "dead")
        message.action_replay()
        self._deliver(message)
        self.assertEqual(message.state, "done")
        first, second = self.receiver.requests
        self.assertEqual(first.headers["webhook-id"], second.headers["webhook-id"])
        self.assertTrue(second.verified)

    def test_send_test_event(self):
        action = self.backend.action_send_test_event()
        message = self.env["integration.message"].browse(action["res_id"])
        self.assertEqual(message.event_type, "integration.test")
        self._deliver(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(self.receiver.requests[0].json["type"], "integration.test")

    def test_missing_signing_secret_is_a_clear_dead_letter(self):
        backend = self._create_backend(outbound_url=self.receiver.url, outbound_allow_private=True)
        self._subscribe(backend=backend)
        message = self._emit().filtered(lambda m: m.backend_id == backend)
        self._deliver(message)
        self.assertEqual(message.state, "dead")
        self.assertIn("no signing secret", message.last_error)

    # Credentials -----------------------------------------------------------------

    def _assert_secret_nowhere(self, secret, message, logs):
        self.assertNotIn(secret, message.headers)
        self.assertNotIn(secret, message.payload)
        for attempt in message.attempt_ids:
            self.assertNotIn(
                secret, f"{attempt.error} {attempt.response_excerpt} {attempt.traceback}"
            )
        self.assertNotIn(secret, "\n".join(logs.output))
        self.assertNotIn(HMAC_SECRET, message.headers)

    def test_credentials_are_sent_but_never_stored_or_logged(self):
        """Whatever the header's name, the secret reaches the receiver and is nowhere in
        the database (every text column of every table) nor in the log."""
        nonce = uuid.uuid4().hex[:12]
        self.addCleanup(setattr, self.receiver, "client", self.receiver.client)
        self.addCleanup(setattr, self.receiver, "token", self.receiver.token)
        self.receiver.client = ("client-1", f"oauth-client-secret-{nonce}")
        self.receiver.token = f"oauth-access-token-{nonce}"
        basic_password = f"basic-pw-{nonce}"
        basic = "Basic " + base64.b64encode(f"odoo:{basic_password}".encode()).decode()
        cases = [
            ("api_key", {"outbound_api_key_header": "X-Api-Secret"}, f"apikey-1-{nonce}", None),
            ("api_key", {"outbound_api_key_header": "X-Custom-Auth"}, f"apikey-2-{nonce}", None),
            ("api_key", {"outbound_api_key_header": "X-API-Key"}, f"apikey-3-{nonce}", None),
            ("bearer", {}, f"bearer-{nonce}", ("Authorization", None)),
            ("basic", {"outbound_username": "odoo"}, basic_password, ("Authorization", basic)),
            (
                "oauth2",
                {
                    "oauth2_token_url": self.receiver.url + "/token",
                    "outbound_username": "client-1",
                },
                self.receiver.client[1],
                ("Authorization", f"Bearer {self.receiver.token}"),
            ),
        ]
        secrets = [self.receiver.token, basic.split()[1]]
        messages = self.env["integration.message"]
        with self.assertLogs("odoo", level=logging.DEBUG) as logs:
            logging.getLogger("odoo").debug("capturing")
            for auth, values, secret, sent in cases:
                header, expected = sent or (values["outbound_api_key_header"], secret)
                expected = expected or f"Bearer {secret}"
                with self.subTest(auth=auth, header=header):
                    self.receiver.requests.clear()
                    self.backend.write(
                        dict(values, outbound_auth_type=auth, outbound_credential=secret)
                    )
                    self.backend.invalidate_recordset()
                    self.assertFalse(self.backend.outbound_credential)  # write-only
                    message = self._emit()
                    self._deliver(message)
                    self.assertEqual(message.state, "done")
                    self.assertEqual(self.receiver.requests[0].headers[header], expected)
                    stored = json.loads(message.headers)
                    self.assertEqual(stored[header], delivery.REDACTED)
                    self.assertEqual(stored["webhook-id"], message.sender_message_id)
                    messages |= message
                    secrets.append(secret)
        self.assertEqual(len(messages), len(cases))
        self.assertEqual(self._columns_holding(*secrets), [])
        log = "\n".join(logs.output)
        for secret in secrets:
            self.assertNotIn(secret, log)

    def test_oauth2_token_is_fetched_once_cached_and_refreshed_when_refused(self):
        self.backend.write(
            {
                "outbound_auth_type": "oauth2",
                "oauth2_token_url": self.receiver.url + "/token",
                "outbound_username": "client-1",
                "outbound_credential": "s3cr3t",
            }
        )
        with self.assertLogs("odoo", level=logging.DEBUG) as logs:
            logging.getLogger("odoo").debug("capturing")
            first, second = self._emit(), self._emit()
            self._deliver(first)
            self._deliver(second)
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual(self.receiver.token_requests, 1)
        self.assertEqual(self.receiver.requests[0].headers["Authorization"], "Bearer token-abc")
        self._assert_secret_nowhere("s3cr3t", first, logs)
        self._assert_secret_nowhere("token-abc", first, logs)
        # The receiver refuses the cached token: a new one is fetched and used at once.
        self.receiver.token = "token-new"
        self.receiver.script(401)
        third = self._emit()
        self._deliver(third)
        self.assertEqual(third.state, "done")
        self.assertEqual(self.receiver.token_requests, 2)
        self.assertEqual(self.receiver.requests[-1].headers["Authorization"], "Bearer token-new")

    def test_oauth2_token_is_fetched_again_once_it_expires_without_a_401(self):
        # Tokens living 31 s are kept until 30 s before they expire: here, 1 s.
        for name in ("token", "expires_in"):  # the receiver serves the whole class
            self.addCleanup(setattr, self.receiver, name, getattr(self.receiver, name))
        self.receiver.expires_in = 31
        self.receiver.token = "token-before-expiry"
        self.backend.write(
            {
                "outbound_auth_type": "oauth2",
                "oauth2_token_url": self.receiver.url + "/token",
                "outbound_username": "client-1",
                "outbound_credential": "s3cr3t",
            }
        )
        first = self._emit()
        self._deliver(first)
        self.assertEqual(self.receiver.token_requests, 1)
        self.receiver.token = "token-after-expiry"
        time.sleep(1.2)
        second = self._emit()
        self._deliver(second)
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual(self.receiver.token_requests, 2, "the expired token was reused")
        self.assertEqual(
            [r.headers["Authorization"] for r in self.receiver.requests],
            ["Bearer token-before-expiry", "Bearer token-after-expiry"],
            "the receiver never had to refuse a token",
        )

    def test_oauth2_wrong_client_secret_is_dead_with_a_clear_error(self):
        self.backend.write(
            {
                "outbound_auth_type": "oauth2",
                "oauth2_token_url": self.receiver.url + "/token",
                "outbound_username": "client-1",
                "outbound_credential": "wrong",
            }
        )
        message = self._emit()
        self._deliver(message)
        self.assertEqual(message.state, "dead")
        self.assertIn("Token endpoint answered HTTP 401", message.last_error)
        self.assertFalse(self.receiver.requests)

    def test_bad_secrets_are_refused_with_a_clear_error(self):
        with self.assertRaisesRegex(Exception, "whsec_"):
            self.backend.outbound_secret = "not-a-secret-at-all-but-long-enough"
        self.backend.invalidate_recordset()  # as a new request would
        with self.assertRaisesRegex(Exception, "whsk_"):
            self.backend.outbound_signing_key = HMAC_SECRET
