import base64
import json

from odoo.exceptions import UserError
from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.queue_job.job import Job

from .. import fileimport
from ..exceptions import IntakeError
from .common import IntegrationHubCase, contact_event

CONTACT_SCHEMA = {
    "properties": {
        "id": {"type": "string"},
        "email": {"type": ["string", "null"]},
        "is_company": {"type": "boolean"},
    }
}


@tagged("post_install", "-at_install")
class TestFileRows(BaseCase):
    def test_csv_cells_take_the_types_the_schema_declares(self):
        content = "id,name,email,is_company,phone\nC-1,North,,yes,\nC-2,South,a@b.example,0,12\n"
        rows = list(fileimport.iter_rows(content.encode(), "csv", CONTACT_SCHEMA))
        self.assertEqual(
            rows,
            [
                (1, {"id": "C-1", "name": "North", "email": None, "is_company": True}),
                (
                    2,
                    {
                        "id": "C-2",
                        "name": "South",
                        "email": "a@b.example",
                        "is_company": False,
                        "phone": "12",
                    },
                ),
            ],
        )

    def test_bad_rows_are_numbered_errors_not_exceptions(self):
        rows = list(fileimport.iter_rows(b'{"id": "1"}\n\n[1, 2]\nnot json\n', "jsonl"))
        self.assertEqual(rows[0], (1, {"id": "1"}))
        self.assertEqual([number for number, _data in rows], [1, 2, 3])
        self.assertIsInstance(rows[1][1], fileimport.RowError)
        self.assertIsInstance(rows[2][1], fileimport.RowError)
        rows = list(fileimport.iter_rows(b"id,name\nC-1,North,extra\n", "csv"))
        self.assertIn("more cells", str(rows[0][1]))
        with self.assertRaisesRegex(fileimport.RowError, "UTF-8"):
            list(fileimport.iter_rows(b"id\n\xff\xfe", "csv"))

    def test_a_row_is_known_by_its_id_and_version(self):
        self.assertEqual(fileimport.row_message_id(7, 3, {"id": "C-1"}), "import:C-1")
        self.assertEqual(
            fileimport.row_message_id(7, 3, {"id": "C-1", "updated_at": "2026-11-20T07:00:00Z"}),
            "import:C-1@2026-11-20T07:00:00Z",
        )
        self.assertEqual(fileimport.row_message_id(7, 3, {"name": "x"}), "import:7:3")


@tagged("post_install", "-at_install")
class TestFileImport(IntegrationHubCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()

    def _import(self, content, file_name="contacts.csv", **values):
        return self.env["integration.import"].create(
            dict(
                {
                    "endpoint_id": self.endpoint.id,
                    "event_type_id": self.contact_type.id,
                    "file": base64.b64encode(content.encode()),
                    "file_name": file_name,
                },
                **values,
            )
        )

    def _run_import_jobs(self, record):
        """Run the import's chunk jobs as the runner would, each queuing the next."""
        done = self.env["queue.job"]
        while True:
            job_record = self.env["queue.job"].search(
                [("model_name", "=", "integration.import"), ("state", "=", "pending")],
                order="id",
                limit=1,
            )
            if not job_record:
                break
            self.assertLess(len(done), 20)
            job = Job.load(self.env, job_record.uuid)
            job.perform()
            job.set_done()
            job.store()
            done |= job_record
        record.invalidate_recordset()
        return done

    def _messages(self):
        return self.env["integration.message"].search(
            [("endpoint_id", "=", self.endpoint.id)], order="id"
        )

    def test_the_preview_shows_the_first_rows_with_their_errors(self):
        record = self._import("id,name\nC-1,North\nC-2,\n")
        self.assertEqual(record.file_format, "csv")
        self.assertIn("valid", record.preview)
        self.assertIn("name", record.preview)
        self.assertIn("is a required property", record.preview)
        self.assertFalse(self._messages())

    def test_the_form_reads_the_preview_of_a_saved_import(self):
        record = self._import("id,name\nC-1,North\n")
        record.invalidate_recordset()
        # As the web client reads a form: binary fields come as their size.
        values = record.with_context(bin_size=True).web_read({"file": {}, "preview": {}})[0]
        self.assertIn("C-1", values["preview"])

    def test_rows_become_messages_in_chunked_jobs_with_a_summary(self):
        rows = ["id,name,is_company"]
        rows += [f"C-{n},Clinic {n},true" for n in range(1, 6)]
        rows += ["C-2,Clinic 2,true", "C-7,,true", "C-8,Clinic 8,perhaps"]
        rows += ["C-3,Clinic 3 renamed,true"]
        record = self._import("\n".join(rows) + "\n", chunk_size=3)
        record.action_import()
        # The browser's request only counts and queues: no row is stored yet.
        self.assertEqual((record.state, record.row_count, record.chunk_count), ("importing", 9, 3))
        self.assertFalse(self._messages())
        # One chunk at a time (parallel chunks would fight over the counters), and
        # before the messages they stored, so a chunk never waits for their processing.
        self.assertEqual(
            self.env["queue.job"].search_count([("model_name", "=", "integration.import")]), 1
        )
        chunk_jobs = self._run_import_jobs(record)
        self.assertEqual(len(chunk_jobs), 3)
        self.assertLess(
            max(chunk_jobs.mapped("priority")), min(self._messages().job_id.mapped("priority"))
        )
        self.assertEqual(record.state, "done")
        self.assertEqual(
            (record.accepted_count, record.duplicate_count, record.refused_count), (5, 1, 3)
        )
        self.assertEqual(record.progress, 100.0)
        # The same row again is a duplicate; the same id with other data is refused,
        # never silently dropped nor stored over the first.
        self.assertEqual(
            record.refusals.splitlines(),
            [
                "row 7: data: 'name' is a required property",
                "row 8: is_company: 'perhaps' is not of type 'boolean'",
                "row 9: already received with other data (a newer updated_at makes it a "
                "new version)",
            ],
        )
        messages = self._messages()
        self.assertEqual(
            messages.mapped("sender_message_id"), [f"import:C-{n}" for n in range(1, 6)]
        )
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        # Stored by the webhooks' intake: business reference, duplicates counted on the
        # first message.
        self.assertEqual(messages.mapped("reference"), [f"C-{n}" for n in range(1, 6)])
        self.assertEqual(messages.mapped("duplicate_count"), [0, 1, 0, 0, 0])
        self.assertEqual(json.loads(messages[0].payload)["data"]["is_company"], True)
        self.assertTrue(
            all(job.channel == self.backend.channel_id.complete_name for job in messages.job_id)
        )
        self._perform_job(messages[0])
        self.assertEqual(messages[0].state, "done", messages[0].last_error)

    def test_json_lines_and_a_second_file_with_the_same_rows(self):
        lines = "\n".join(json.dumps({"id": f"C-{n}", "name": f"Clinic {n}"}) for n in (1, 2))
        first = self._import(lines, file_name="contacts.jsonl")
        self.assertEqual(first.file_format, "jsonl")
        first.action_import()
        self._run_import_jobs(first)
        again = self._import(lines, file_name="contacts.jsonl")
        again.action_import()
        self._run_import_jobs(again)
        self.assertEqual((again.accepted_count, again.duplicate_count), (0, 2))
        self.assertEqual(len(self._messages()), 2)

    def test_an_import_is_not_held_to_the_endpoint_rate_limit(self):
        """The limit protects the endpoint from senders; an administrator's file of
        more rows than it allows a minute is imported whole."""
        self.endpoint.rate_limit_per_minute = 2
        endpoints = self.env["integration.endpoint"]
        profile = endpoints._webhook_profile(self.endpoint.id)
        for number in (1, 2):
            endpoints._intake(profile, f"msg_{number}", contact_event(f"W-{number}"))
        with self.assertRaises(IntakeError) as refused:
            endpoints._intake(profile, "msg_3", contact_event("W-3"))
        self.assertEqual(refused.exception.code, "rate_limited")
        rows = ["id,name"] + [f"C-{n},Clinic {n}" for n in range(1, 8)]
        record = self._import("\n".join(rows) + "\n", chunk_size=4)
        record.action_import()
        self._run_import_jobs(record)
        self.assertEqual(
            (record.state, record.accepted_count, record.refused_count), ("done", 7, 0)
        )
        self.assertEqual(len(self._messages()), 9)

    def test_a_chunk_run_again_imports_nothing_twice(self):
        record = self._import("id,name\nC-1,North\nC-2,South\nC-3,East\n", chunk_size=2)
        record.action_import()
        record._job_import_chunk(1, 3)
        record.invalidate_recordset()
        self.assertEqual((record.chunk_done_count, record.accepted_count), (1, 2))
        self.assertIn("Nothing to do", record._job_import_chunk(1, 3))
        record.invalidate_recordset()
        self.assertEqual((record.chunk_done_count, record.accepted_count), (1, 2))
        self._run_import_jobs(record)
        self.assertEqual(
            (record.state, record.accepted_count, record.duplicate_count), ("done", 3, 0)
        )

    def test_an_unreadable_file_or_a_type_the_endpoint_refuses_is_a_clear_error(self):
        record = self.env["integration.import"].create(
            {
                "endpoint_id": self.endpoint.id,
                "event_type_id": self.contact_type.id,
                "file": base64.b64encode(b"id,name\n\xff\xfe\n"),
                "file_name": "contacts.csv",
            }
        )
        with self.assertRaisesRegex(UserError, "UTF-8"):
            record.action_import()
        other_type = self.env["integration.event.type"].create(
            {"code": "test.other", "name": "Other", "handler_model": "integration.handler.contact"}
        )
        record = self._import("id,name\nC-1,North\n", event_type_id=other_type.id)
        with self.assertRaisesRegex(UserError, "does not accept"):
            record.action_import()
        self.assertFalse(self._messages())
