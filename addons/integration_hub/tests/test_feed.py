from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import InternalError

from odoo import fields
from odoo.tests import BaseCase, TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.job import Job

from .. import feed as feed_lib
from .common import IntegrationHubCase, RealRequestsMixin, contact_event, trap_jobs
from .feed_server import FeedServer


def item(number, updated_at="2026-11-20T07:00:00Z", **data):
    event = contact_event(**dict({"contact_id": f"C-{number}", "name": f"Clinic {number}"}, **data))
    return {
        "id": f"C-{number}",
        "type": event["type"],
        "updated_at": updated_at,
        "data": event["data"],
    }


@tagged("post_install", "-at_install")
class TestFeedPage(BaseCase):
    def test_a_page_is_items_a_next_cursor_and_has_more(self):
        items, cursor, more = feed_lib.parse_page(
            b'{"items": [{"id": "1"}], "next_cursor": 17, "has_more": true}'
        )
        self.assertEqual((items, cursor, more), ([{"id": "1"}], "17", True))
        self.assertEqual(feed_lib.parse_page(b'{"items": []}'), ([], None, False))

    def test_a_malformed_page_names_what_is_wrong(self):
        for body, problem in (
            (b"<html>", "not JSON"),
            (b"[]", "items"),
            (b'{"items": {}}', "items"),
            (b'{"items": [], "has_more": "yes"}', "has_more"),
            (b'{"items": [], "next_cursor": {}}', "next_cursor"),
        ):
            with self.subTest(body=body), self.assertRaisesRegex(feed_lib.FeedError, problem):
                feed_lib.parse_page(body)

    def test_an_item_is_one_message_per_id_and_version(self):
        first = item(1)
        self.assertIsNone(feed_lib.item_problem(first))
        self.assertEqual(feed_lib.item_message_id(first), "feed:C-1@2026-11-20T07:00:00Z")
        self.assertNotEqual(
            feed_lib.item_message_id(item(1, "2026-11-21T07:00:00Z")),
            feed_lib.item_message_id(first),
        )
        self.assertEqual(feed_lib.item_envelope(first)["type"], "contact.upserted")
        self.assertIn("updated_at", feed_lib.item_problem(dict(first, updated_at=None)))
        self.assertIn("data", feed_lib.item_problem(dict(first, data=[])))


@tagged("post_install", "-at_install")
class TestFeedPull(RealRequestsMixin, IntegrationHubCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.server = FeedServer([item(n) for n in range(1, 6)], bearer="feed-token")
        cls.server.__enter__()
        cls.addClassCleanup(cls.server.__exit__, None, None, None)
        cls.backend.write(
            {
                "outbound_allow_private": True,
                "outbound_auth_type": "bearer",
                "outbound_credential": "feed-token",
            }
        )
        cls.feed = cls.env["integration.feed"].create(
            {
                "name": "Contacts changes",
                "endpoint_id": cls.endpoint.id,
                "url": cls.server.url,
                "page_size": 2,
            }
        )

    def setUp(self):
        super().setUp()
        self.server.requests.clear()
        self.server._failures.clear()

    def _messages(self):
        return self.env["integration.message"].search(
            [("endpoint_id", "=", self.endpoint.id)], order="id"
        )

    def _run_feed_job(self):
        """Run the feed's pending page job as the job runner would; False if none."""
        job = self.env["queue.job"].search(
            [
                ("model_name", "=", "integration.feed"),
                ("method_name", "=", "_job_pull_page"),
                ("state", "=", "pending"),
            ],
            limit=1,
        )
        if not job:
            return False
        loaded = Job.load(self.env, job.uuid)
        loaded.set_started()
        loaded.store()
        loaded.perform()
        loaded.set_done()
        loaded.store()
        self.env.invalidate_all()
        return True

    def _pull_page(self):
        self.feed._enqueue_page()
        self.assertTrue(self._run_feed_job())

    def _pull_all(self):
        """Pull from the feed's cursor until its last page: the number of pages."""
        self._pull_page()
        pages = 1
        while self._run_feed_job():
            pages += 1
            self.assertLess(pages, 20)
        return pages

    @contextmanager
    def _message_inserts_fail_after(self, count):
        """A real database fault: the message insert after ``count`` others fails."""
        cr = self.env.cr
        cr.execute("CREATE SEQUENCE ih_test_feed_inserts")
        cr.execute(
            f"""CREATE FUNCTION ih_test_feed_crash() RETURNS trigger AS $$
                BEGIN
                    IF nextval('ih_test_feed_inserts') > {int(count)} THEN
                        RAISE EXCEPTION 'server died' USING ERRCODE = 'XX000';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql"""
        )
        cr.execute(
            "CREATE TRIGGER ih_test_feed_crash BEFORE INSERT ON integration_message "
            "FOR EACH ROW EXECUTE FUNCTION ih_test_feed_crash()"
        )
        try:
            yield
        finally:
            cr.execute("DROP TRIGGER ih_test_feed_crash ON integration_message")
            cr.execute("DROP FUNCTION ih_test_feed_crash()")
            cr.execute("DROP SEQUENCE ih_test_feed_inserts")

    def test_pages_become_queued_messages_and_the_cursor_follows(self):
        # The hub asks for its pages: the endpoint's rate limit (for senders) does not apply.
        self.endpoint.rate_limit_per_minute = 1
        self.assertEqual(self._pull_all(), 3)
        messages = self._messages()
        self.assertEqual(
            messages.mapped("sender_message_id"),
            [f"feed:C-{n}@2026-11-20T07:00:00Z" for n in range(1, 6)],
        )
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertTrue(all(messages.job_id))
        self.assertEqual(messages.mapped("reference"), [f"C-{n}" for n in range(1, 6)])
        self.assertEqual((self.feed.cursor, self.feed.item_count), ("5", 5))
        self.assertEqual(
            [query.get("since") for query, _headers in self.server.requests], [None, "2", "4"]
        )
        self.assertEqual(
            {headers["Authorization"] for _query, headers in self.server.requests},
            {"Bearer feed-token"},
        )
        self.assertGreater(self.feed.next_run_date, fields.Datetime.now() + timedelta(minutes=14))
        # Processed like a webhook's message.
        self._perform_job(messages[0])
        self.assertEqual(messages[0].state, "done", messages[0].last_error)

    def test_a_crash_between_pages_resumes_without_skipping_or_duplicating(self):
        self._pull_page()
        self.assertEqual(self.feed.cursor, "2")
        # The second page's job dies after storing one of its two items: its
        # transaction (messages and cursor) is rolled back.
        with (
            self._message_inserts_fail_after(1),
            mute_logger("odoo.sql_db"),
            self.assertRaises(InternalError),
            self.env.cr.savepoint(),
        ):
            self._run_feed_job()
        self.env.invalidate_all()
        self.assertEqual(self.feed.cursor, "2")
        self.assertEqual(len(self._messages()), 2)
        # The runner runs the page's job again: it resumes from the committed cursor.
        while self._run_feed_job():
            pass
        self.assertEqual(
            self._messages().mapped("sender_message_id"),
            [f"feed:C-{n}@2026-11-20T07:00:00Z" for n in range(1, 6)],
        )
        self.assertEqual(self.feed.cursor, "5")

    def test_a_failed_page_backs_off_shows_on_the_feed_and_resumes(self):
        self._pull_page()
        for failure, error in ((503, "HTTP 503"), ("drop", "Page unreadable")):
            with self.subTest(failure=failure):
                self.server.fail_next(failure)
                before = fields.Datetime.now()
                self._pull_page()
                self.assertFalse(self._run_feed_job())
                self.assertIn(error, self.feed.last_error)
                self.assertEqual(self.feed.cursor, "2")
                self.assertGreaterEqual(self.feed.next_run_date, before + timedelta(seconds=10))
        self.assertEqual(self.feed.failure_count, 2)
        # The backend's form and Overview card say so, and open the failing feed.
        backend = self.backend
        backend.invalidate_recordset()
        self.assertEqual(backend.feed_failing_count, 1)
        self.assertIn(
            "Contacts changes failed 2 times in a row: Page unreadable", backend.feed_alert
        )
        action = backend.with_context(figure="feeds").action_overview_open()
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), self.feed)
        self._pull_all()
        self.assertEqual((self.feed.failure_count, self.feed.last_error), (0, False))
        backend.invalidate_recordset()
        self.assertEqual((backend.feed_failing_count, backend.feed_alert), (0, False))
        self.assertEqual(len(self._messages()), 5)

    def test_reading_again_stores_nothing_twice_but_new_versions_are_new(self):
        self._pull_all()
        self.feed.action_restart()
        self.server.items[0] = item(1, "2026-11-22T07:00:00Z", name="Clinic one renamed")
        self._pull_all()
        self.assertEqual(len(self._messages()), 6)
        self.assertEqual(self.feed.duplicate_count, 4)
        self.server.items[0] = item(1)

    def test_items_against_the_schema_are_refused_and_named(self):
        self.server.items.append(
            {
                "id": "C-bad",
                "type": "contact.upserted",
                "updated_at": "2026-11-20T07:00:00Z",
                "data": {"id": "C-bad"},
            }
        )
        self.server.items.append({"id": "C-no-date", "type": "contact.upserted", "data": {}})
        try:
            self._pull_all()
        finally:
            del self.server.items[5:]
        self.assertEqual((self.feed.item_count, self.feed.refused_count), (5, 2))
        self.assertEqual(len(self._messages()), 5)
        self.assertIn("updated_at", self.feed.last_refusal)

    def test_a_private_address_is_refused_unless_the_backend_allows_it(self):
        self.backend.outbound_allow_private = False
        self._pull_page()
        self.assertIn("Refused target", self.feed.last_error)
        self.assertFalse(self.server.requests)

    def test_the_scheduler_queues_due_feeds_once(self):
        self.feed.next_run_date = fields.Datetime.now() + timedelta(minutes=5)
        with trap_jobs() as trap:
            self.env["integration.feed"]._cron_pull_due()
            trap.assert_jobs_count(0)
        self.feed.next_run_date = fields.Datetime.now() - timedelta(seconds=1)
        with trap_jobs() as trap:
            self.env["integration.feed"]._cron_pull_due()
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                self.feed._job_pull_page,
                properties={"identity_key": f"integration.feed,{self.feed.id},pull"},
            )
