from datetime import timedelta

from odoo import fields, sql_db
from odoo.exceptions import ValidationError
from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.queue_job.exception import RetryableJobError

from .. import ordering
from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestOrderingKey(BaseCase):
    def test_key_is_the_fixed_text_with_the_named_fields_of_data(self):
        self.assertEqual(
            ordering.ordering_key("encounter:{encounter_id}", {"encounter_id": "APT-1"}),
            "encounter:APT-1",
        )
        self.assertEqual(
            ordering.ordering_key(
                "stock:{item_code}@{location_code}", {"item_code": "SKU-1", "location_code": "OR-2"}
            ),
            "stock:SKU-1@OR-2",
        )
        self.assertEqual(
            ordering.ordering_key("line:{lines/0/code}", {"lines": [{"code": 7}]}), "line:7"
        )

    def test_event_without_the_field_is_not_ordered(self):
        for data in (
            {},
            {"encounter_id": None},
            {"encounter_id": ""},
            {"encounter_id": True},
            {"encounter_id": {"id": "APT-1"}},
            {"encounter_id": 1.5},
        ):
            with self.subTest(data=data):
                self.assertIsNone(ordering.ordering_key("encounter:{encounter_id}", data))
        self.assertIsNone(ordering.ordering_key("line:{lines/3/code}", {"lines": []}))
        self.assertIsNone(ordering.ordering_key("", {"id": "A"}))

    def test_long_key_is_cut(self):
        key = ordering.ordering_key("k:{id}", {"id": "x" * 1000})
        self.assertEqual(len(key), ordering.MAX_KEY_CHARS)

    def test_template_naming_no_field_or_malformed_is_refused(self):
        for template in ("encounter", "encounter:{", "encounter:{}", "k:{id!r}", "k:{id:>5}"):
            with self.subTest(template=template), self.assertRaises(ordering.TemplateError):
                ordering.parse_template(template)


@tagged("post_install", "-at_install")
class TestOrdering(IntegrationHubCase, TransactionCase):
    """Messages of one backend with the same key: one at a time, in arrival order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    def _postponed(self, message):
        """The RetryableJobError that postpones ``message``'s job (no attempt used)."""
        with self.assertRaises(RetryableJobError) as caught:
            message._job_process()
        self.assertTrue(caught.exception.ignore_retry)
        self.assertEqual(message.attempt_count, 0)
        self.assertEqual(message.state, "queued")
        return caught.exception

    def test_event_type_refuses_an_ordering_key_naming_no_field(self):
        with self.assertRaisesRegex(ValidationError, "names no field"):
            self.contact_type.ordering_key_template = "contact"

    def test_message_gets_its_event_types_key_at_arrival(self):
        self.assertEqual(self.contact_type.ordering_key_template, "contact:{id}")
        message = self._create_message(contact_event("C-7"))
        self.assertEqual(message.ordering_key, "contact:C-7")
        # From a pull feed or a file import, as from the webhook.
        event = contact_event("C-8")
        outcome, stored_id = self.endpoint._store_item("msg-feed-1", event, event["data"])
        stored = self.env["integration.message"].browse(stored_id)
        self.assertEqual((outcome, stored.ordering_key), ("stored", "contact:C-8"))

    def test_later_message_waits_for_an_earlier_one_of_its_key(self):
        first = self._create_message(contact_event("C-1", "First name"))
        second = self._create_message(contact_event("C-1", "Second name"))
        error = self._postponed(second)
        self.assertIn(f"earlier message {first.id} of contact:C-1", str(error))
        self.assertEqual(error.seconds, 1)
        self._perform_job(first)
        self._perform_job(second)
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual(self._partners("C-1").name, "Second name", "applied in arrival order")

    def test_the_next_message_of_a_key_is_due_as_soon_as_the_earlier_one_is_processed(self):
        first = self._create_message(contact_event("C-1", "First name"))
        second = self._create_message(contact_event("C-1", "Second name"))
        other = self._create_message(contact_event("C-2"))
        self._postponed(second)
        # As queue_job leaves a postponed job: pending, due at the recheck.
        later = fields.Datetime.now() + timedelta(minutes=10)
        (second.job_id | other.job_id).sudo().with_context(
            _job_edit_sentinel=second.job_id.EDIT_SENTINEL
        ).write({"state": "pending", "eta": later})
        self._perform_job(first)
        self.env["queue.job"].invalidate_model(["eta"])
        self.assertFalse(second.job_id.eta, "due now, not at its recheck")
        self.assertEqual(other.job_id.eta, later, "another key's job is left alone")

    def test_wait_grows_with_the_messages_ahead(self):
        for _n in range(3):
            self._create_message(contact_event("C-1"))
        last = self._create_message(contact_event("C-1"))
        self.assertEqual(self._postponed(last).seconds, 3)

    def test_other_keys_and_other_backends_are_not_held_up(self):
        self._create_message(contact_event("C-1"))
        other_backend = self._create_backend(name="Other system")
        other_endpoint = self._create_endpoint(other_backend)
        for message in (
            self._create_message(contact_event("C-2")),
            self._create_message(contact_event("C-1"), endpoint=other_endpoint),
        ):
            self._perform_job(message)
            self.assertEqual(message.state, "done", message.last_error)

    def test_earlier_message_retrying_holds_later_ones_until_its_next_attempt(self):
        first = self._create_message(contact_event("C-1"))
        first._enqueue(eta=fields.Datetime.now() + timedelta(seconds=120))
        self.assertEqual(first.state, "retrying")
        second = self._create_message(contact_event("C-1"))
        self.assertGreaterEqual(self._postponed(second).seconds, 110)

    def test_earlier_message_parked_for_a_person_or_a_record_does_not_hold_later_ones(self):
        # A business exception (an unknown country code), a message waiting for its
        # organisation, a dead one: each waits for something a later event cannot bring.
        exception = self._create_message(contact_event("C-1", country_code="QQ"))
        self._perform_job(exception)
        self.assertEqual(exception.state, "exception")
        waiting = self._create_message(contact_event("C-1", parent_id="ORG-LATER"))
        self._perform_job(waiting)
        self.assertEqual((waiting.state, waiting.waiting_external_id), ("retrying", "ORG-LATER"))
        dead = self._create_message(contact_event("C-1"))
        dead.write({"state": "dead", "next_attempt_date": False})
        later = self._create_message(contact_event("C-1", "Latest name"))
        self._perform_job(later)
        self.assertEqual(later.state, "done", later.last_error)
        self.assertEqual(self._partners("C-1").name, "Latest name")

    def test_message_of_a_key_being_processed_elsewhere_waits(self):
        message = self._create_message(contact_event("C-1"))
        self.env.flush_all()
        # Another worker's transaction processing a message of the same key holds it.
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                (self.backend.id, "contact:C-1"),
            )
            error = self._postponed(message)
            self.assertIn("contact:C-1 is being processed", str(error))
        finally:
            other.rollback()
            other.close()
        self._perform_job(message)
        self.assertEqual(message.state, "done", message.last_error)
