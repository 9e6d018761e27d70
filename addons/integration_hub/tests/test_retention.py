import json
import uuid
from unittest.mock import patch

from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import SQL, config

from ..models.integration_message import BACKLOG_INDEX
from .common import IntegrationHubCase, contact_event, signed_headers


class RetentionMixin:
    def _age(self, messages, days):
        """Make ``messages`` last changed ``days`` ago, as time would."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE integration_message SET write_date = now() at time zone 'utc' - "
            "make_interval(days => %s) WHERE id IN %s",
            (days, tuple(messages.ids)),
        )
        self.env.invalidate_all()

    def _job_ids(self, messages):
        """Every queue_job row that ran or waits for ``messages``."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT job_id FROM integration_message WHERE id IN %(ids)s AND job_id IS NOT NULL
               UNION
               SELECT j.id FROM integration_message_attempt a
                 JOIN queue_job j ON j.uuid = a.job_uuid
                WHERE a.message_id IN %(ids)s""",
            {"ids": tuple(messages.ids)},
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _rows(self, table, column, ids):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM %s WHERE %s IN %s",
                SQL.identifier(table),
                SQL.identifier(column),
                tuple(ids) or (0,),
            )
        )
        return self.env.cr.fetchone()[0]


@tagged("post_install", "-at_install")
class TestRetention(RetentionMixin, IntegrationHubCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.backend.write({"payload_retention_days": 30, "failed_retention_days": 365})
        cls.messages = cls.env["integration.message"]

    def _done_message(self, number=1):
        message = self._create_message(contact_event(f"P-{number}", f"Patient {number}"))
        self._perform_job(message)
        self.assertEqual(message.state, "done")
        return message

    def _exception_message(self, number=1):
        event = contact_event(f"X-{number}", f"Patient {number}", country_code="QQ")
        message = self._create_message(event)
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        return message

    def test_retention_deletes_processed_messages_whole_with_attempts_and_jobs(self):
        done = self._done_message(1)
        ignored = self._exception_message(2)
        ignored.exception_ids.action_ignore()  # a person closes it: the message is cancelled
        self.assertEqual(ignored.state, "cancelled")
        recent = self._done_message(3)
        old = done | ignored
        attempts = old.attempt_ids
        jobs = self._job_ids(old)
        exceptions = ignored.exception_ids
        self.assertTrue(attempts and jobs and exceptions)
        done.message_post(body="Checked with the sender.")
        exceptions.message_post(body="Not ours, ignored.")
        chatter = self.env["mail.message"].search(
            [("model", "=", "integration.message"), ("res_id", "in", old.ids)]
        ) | self.env["mail.message"].search(
            [("model", "=", "integration.exception"), ("res_id", "in", exceptions.ids)]
        )
        self.assertTrue(chatter)
        self._age(old, 31)

        self.assertEqual(self.messages._cron_apply_retention(), 2)

        self.assertFalse(old.exists())
        self.assertFalse(attempts.exists(), "attempts (errors, tracebacks) go with the message")
        self.assertFalse(exceptions.exists(), "explanations go with the message")
        self.assertEqual(self._rows("queue_job", "id", jobs), 0, "job results and errors too")
        self.assertFalse(chatter.exists(), "nor their chatter")
        self.assertTrue(recent.exists(), "a message inside its retention stays")
        self.assertIn("Patient 3", recent.payload)
        summary = self.backend.message_ids.filtered(lambda m: "Retention deleted" in str(m.body))
        self.assertEqual(len(summary), 1, "the backend's chatter counts the deleted exceptions")
        self.assertIn("1 exceptions", str(summary.body))
        self.assertNotIn("Patient", str(summary.body))

    def test_retention_never_deletes_queued_received_or_retrying_messages(self):
        queued = self._create_message(contact_event("Q-1", "Patient Q"))
        retrying = self._create_message(contact_event("Q-2", "Patient R"))
        retrying.write({"state": "retrying"})
        received = self._create_message(contact_event("Q-3", "Patient S"))
        received.write({"state": "received"})
        waiting = queued | retrying | received
        self._age(waiting, 5000)

        self.assertEqual(self.messages._cron_apply_retention(), 0)

        self.assertEqual(waiting.exists(), waiting)
        self.assertEqual(self._rows("queue_job", "id", self._job_ids(waiting)), 3)

    def test_dead_and_exception_messages_follow_their_own_longer_retention(self):
        dead = self._done_message(1)
        dead.write({"state": "dead"})
        exception = self._exception_message(2)
        failed = dead | exception
        self._age(failed, 100)
        self.assertEqual(
            self.messages._cron_apply_retention(), 0, "past the normal retention they wait"
        )
        self.assertEqual(failed.exists(), failed)

        self._age(failed, 366)
        open_exception = exception.exception_ids
        self.assertEqual(self.messages._cron_apply_retention(), 2)
        self.assertFalse(failed.exists())
        self.assertFalse(open_exception.exists())

    def test_zero_retention_keeps_messages(self):
        self.backend.write({"payload_retention_days": 0, "failed_retention_days": 0})
        done = self._done_message(1)
        dead = self._done_message(2)
        dead.write({"state": "dead"})
        self._age(done | dead, 5000)
        self.assertEqual(self.messages._cron_apply_retention(), 0)
        self.assertEqual((done | dead).exists(), done | dead)

    def test_retention_deletes_in_batches_of_the_given_size(self):
        old = self.messages.browse([self._done_message(n).id for n in range(5)])
        self._age(old, 31)
        deleted = [self.messages._cron_apply_retention(batch_size=2) for _ in range(4)]
        self.assertEqual(deleted, [2, 2, 1, 0])
        self.assertFalse(old.exists())

    def test_retention_reports_progress_so_the_cron_commits_and_calls_again(self):
        old = self.messages.browse([self._done_message(n).id for n in range(3)])
        self._age(old, 31)
        cron = self.env.ref("integration_hub.ir_cron_integration_message_purge_payloads")
        cron, progress = cron._add_progress()
        model = self.messages.with_context(ir_cron_progress_id=progress.id)
        model._cron_apply_retention(batch_size=2)
        self.assertEqual((progress.done, progress.remaining), (2, 1))
        model._cron_apply_retention(batch_size=2)
        self.assertEqual((progress.done, progress.remaining), (1, 0))

    def test_retention_skips_a_message_whose_job_is_still_waiting(self):
        message = self._done_message(1)
        # A replay queued the message again, and its job waits for a worker.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'pending' WHERE id = %s", (message.job_id.id,)
        )
        self._age(message, 31)
        self.assertEqual(self.messages._cron_apply_retention(), 0)
        self.assertTrue(message.exists())

    def test_retention_leaves_bindings_and_produced_records(self):
        message = self._done_message(1)
        partner = self._partners("P-1")
        binding = self.env["integration.binding"].search([("last_message_id", "=", message.id)])
        self.assertTrue(partner and binding)
        self._age(message, 31)
        self.assertEqual(self.messages._cron_apply_retention(), 1)
        self.assertTrue(partner.exists())
        self.assertTrue(binding.exists(), "the binding stays; its link to the message is cleared")
        self.assertFalse(binding.last_message_id)

    def test_date_error_names_the_field_not_its_value(self):
        message = self._create_message(
            contact_event("D-1", "Patient D", updated_at="Jane Doe 1970-01-01")
        )
        self._perform_job(message)
        self.assertEqual(message.state, "exception")
        self.assertIn("updated_at", message.exception_ids.explanation)
        for text in (
            message.exception_ids.explanation,
            message.last_error,
            message.attempt_ids.error,
            message.job_id.result,
        ):
            self.assertNotIn("Jane Doe", text or "")


@tagged("post_install", "-at_install")
class TestRetentionForgets(RetentionMixin, IntegrationHubCase, HttpCase):
    """A canary sent through a real webhook is nowhere in the database after the purge."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.backend.write({"payload_retention_days": 30, "failed_retention_days": 365})

    def _send(self, event, correlation_id):
        body = json.dumps(event).encode()
        headers = dict(signed_headers(body), **{"X-Correlation-ID": correlation_id})
        response = self.url_open(
            f"/integration/webhook/{self.endpoint.token}", data=body, headers=headers
        )
        self.assertEqual(response.status_code, 202, response.text)
        return self.env["integration.message"].browse(response.json()["id"])

    def _columns_holding(self, needle):
        """``table.column`` of every text column of every table that holds ``needle``."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            """SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.column_name)
                 FROM information_schema.columns c
                 JOIN information_schema.tables t
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                  AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
                GROUP BY c.table_name ORDER BY c.table_name"""
        )
        found = []
        for table, columns in cr.fetchall():
            cr.execute(
                SQL(
                    "SELECT %s FROM %s WHERE %s",
                    SQL(", ").join(
                        SQL("bool_or(%s::text LIKE %s)", SQL.identifier(column), f"%{needle}%")
                        for column in columns
                    ),
                    SQL.identifier(table),
                    SQL(" OR ").join(
                        SQL("%s::text LIKE %s", SQL.identifier(column), f"%{needle}%")
                        for column in columns
                    ),
                )
            )
            row = cr.fetchone()
            found += [f"{table}.{column}" for column, hit in zip(columns, row, strict=True) if hit]
        return found

    def test_retention_leaves_no_trace_of_a_canary_in_any_table(self):
        canary = f"CANARY{uuid.uuid4().hex}"
        name = f"Patient {uuid.uuid4().hex}"
        # Processed: the contact (business data, kept) is named after the patient; the
        # job's result quotes that name; an unused key and the correlation id carry the
        # canary. Exception: an unknown country; a person ignores one, not the other.
        done = self._send(contact_event("K-1", name, note=canary), f"{canary}-1")
        ignored = self._send(
            contact_event("K-2", "Patient K", country_code="QQ", note=canary), f"{canary}-2"
        )
        waiting = self._send(
            contact_event("K-3", "Patient L", country_code="QQ", note=canary), f"{canary}-3"
        )
        for message in done | ignored | waiting:
            self._perform_job(message)
        self.assertEqual(
            (done.state, ignored.state, waiting.state), ("done", "exception", "exception")
        )
        ignored.exception_ids.action_ignore()
        self._end_transaction()
        before = self._columns_holding(canary)
        for column in (
            "integration_message.payload",
            "integration_message.headers",
            "integration_message.correlation_id",
        ):
            self.assertIn(column, before, "the canary went in where it should")
        self.assertIn("queue_job.result", self._columns_holding(name))

        self._age(done | ignored, 31)
        self._age(waiting, 366)
        self.assertEqual(self.env["integration.message"]._cron_apply_retention(), 3)

        self.assertEqual(self._columns_holding(canary), [])
        self.assertEqual(
            {column.split(".")[0] for column in self._columns_holding(name)},
            {"res_partner"},
            "only the contact the message produced keeps the name",
        )


@tagged("post_install", "-at_install")
class TestBacklogCounts(RetentionMixin, IntegrationHubCase, HttpCase):
    """Health, metrics and the Messages views count the backlog, never the whole store."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    def _states(self, *states):
        messages = self.env["integration.message"]
        for number, state in enumerate(states):
            message = self._create_message(contact_event(f"B-{number}", "Patient B"))
            message.write({"state": state})
            messages |= message
        return messages

    def test_health_counts_only_the_backlog(self):
        before = self.env["integration.message"]._backlog_counts()
        self._states("queued", "retrying", "dead", "exception", "done", "cancelled", "ignored")
        after = self.env["integration.message"]._backlog_counts()
        self.assertEqual(set(after), {"received", "queued", "retrying", "exception", "dead"})
        self.assertEqual(
            {state: after[state] - before[state] for state in after},
            {"received": 0, "queued": 1, "retrying": 1, "exception": 1, "dead": 1},
        )

    def test_metrics_count_the_backlog_by_backend_and_state(self):
        self._states("queued", "dead", "dead", "done", "done", "ignored")
        self.env.flush_all()
        with patch.dict(config.options, {"integration_hub_metrics_token": "s3cret-metrics"}):
            response = self.url_open(
                "/integration/metrics", headers={"Authorization": "Bearer s3cret-metrics"}
            )
        self.assertEqual(response.status_code, 200, response.text)
        backend = f'backend="{self.backend.code}",direction="in"'
        self.assertIn(f'integration_messages{{{backend},state="queued"}} 1', response.text)
        self.assertIn(f'integration_messages{{{backend},state="dead"}} 2', response.text)
        self.assertNotIn('state="done"', response.text)
        self.assertNotIn('state="ignored"', response.text)

    def test_messages_list_first_page_is_read_backwards_on_the_backlog_index(self):
        # Without the partial index the list's default order (id desc) is served by the
        # primary key, read backwards through every newer done message until 80 of the
        # backlog are found, or by sorting the whole backlog.
        self._states("queued", "dead", "done", "done", "ignored")
        self.env.flush_all()
        messages = self.env["integration.message"]
        query = messages._search(
            [("state", "in", ("received", "queued", "retrying", "exception", "dead"))],
            limit=80,
            order=messages._order,  # the list's default order
        )
        # The planner on a store of a few rows prefers a scan and a sort; the
        # question here is which index serves the query when it must use one.
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute("SET LOCAL enable_sort = off")
        self.env.cr.execute(SQL("EXPLAIN %s", query.select()))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.env.cr.execute("RESET enable_seqscan; RESET enable_sort")
        # An index only scan when the visibility map allows it, a plain one otherwise.
        self.assertIn(f"Scan Backward using {BACKLOG_INDEX}", plan)
        self.assertNotIn("Sort", plan)

    def test_messages_menu_and_backend_button_open_on_the_backlog(self):
        self._states("queued", "exception", "done", "done", "cancelled")
        action = self.env.ref("integration_hub.integration_message_action")
        self.assertIn("search_default_backlog", action.context)
        backend_action = self.backend.action_view_messages()
        self.assertEqual(backend_action["context"]["search_default_backlog"], 1)
        search_view = self.env.ref("integration_hub.integration_message_view_search")
        self.assertIn('name="backlog"', search_view.arch)
        self.assertEqual(self.backend.message_count, 2, "the button counts the backlog")
