import functools
import json
import logging
import time
import traceback
from datetime import timedelta

from psycopg2 import OperationalError

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools.sql import create_index

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from .. import headers as headers_lib
from .. import payload as payload_lib
from ..exceptions import IntegrationBusinessError, WaitingForRecordError, error_text
from ..fingerprint import DEAD_KIND, fingerprint
from ..retry import delay_after
from ..side_cursor import side_cursor
from .integration_subscription import ORIGIN_KEY

_logger = logging.getLogger(__name__)

# While its job runs, a message stays 'queued' (the job shows 'started'): a state
# written inside the job's transaction would be seen by no one before its outcome.
# A repeated webhook-id is no message of its own: the first one counts it.
STATES = [
    ("received", "Received"),
    ("queued", "Queued"),
    ("retrying", "Retrying"),
    ("done", "Done"),
    ("exception", "Exception"),
    ("dead", "Dead"),
    ("ignored", "Ignored"),
    ("cancelled", "Cancelled"),
]
REPLAYABLE_STATES = ("dead", "exception", "done", "ignored")
# Replayed by a bulk action unless a person explicitly asks to send done ones again.
BULK_REPLAY_STATES = tuple(state for state in REPLAYABLE_STATES if state != "done")
# Messages nobody needs to act on: deleted after the backend's retention.
PURGEABLE_STATES = ("done", "cancelled", "ignored")
# Messages that wait for a person: deleted only after the backend's longer retention
# of failures; messages still queued, received or retrying are never deleted.
FAILED_STATES = ("dead", "exception")
# The backlog: what something or someone still has to act on. Health, metrics and the
# Messages views' default filter count only these states, through a partial index, so
# their cost follows the backlog, not the store (most of which is done messages).
BACKLOG_STATES = ("received", "queued", "retrying", "exception", "dead")
# That partial index: the backlog's ids. Its predicate is written as the Backlog
# filter's domain is, so PostgreSQL proves the filter (or any subset of its states)
# implies it. Renamed whenever BACKLOG_STATES changes (an index is created only when
# its name is missing).
BACKLOG_INDEX = "integration_message_backlog_id_idx"
CANCELLABLE_STATES = ("received", "queued", "retrying", "exception", "dead", "ignored")
# A paused backend's messages wait; the job looks again after this many seconds.
PAUSED_BACKEND_RECHECK = 300
# An ordered message whose turn has not come looks again after this many seconds, or
# when the earlier message's next attempt is due (at most TURN_RECHECK_MAX).
TURN_RECHECK = 1
TURN_RECHECK_MAX = 600
# States of the inbound messages that hold up later ones of their ordering key.
TURN_HOLDING_STATES = ("received", "queued", "retrying")
# The job of the next queued message of an ordering key, made due now.
WAKE_NEXT_OF_KEY_SQL = """
    UPDATE queue_job SET eta = NULL
     WHERE state = 'pending' AND eta IS NOT NULL
       AND id = (SELECT m.job_id FROM integration_message m
                  WHERE m.backend_id = %(backend)s AND m.direction = 'in'
                    AND m.ordering_key = %(key)s AND m.id > %(id)s AND m.state = 'queued'
                  ORDER BY m.id LIMIT 1)"""
# A job also processes other ready messages of its backend (a batch), each as its own
# job would, saving the runner's dispatch of each. It stops taking further messages
# after this many seconds: the runner waits for the batch when it dispatches one of
# the jobs the batch holds.
BATCH_TIME_BUDGET = 5.0
# A batched message waits at most this long for a row another transaction holds, then
# is left to its own job. The batch holds the row locks of the jobs it took, and
# queue_job's runner, one thread for every channel, waits on such a lock when it
# dispatches one of them: a batch stuck behind a lock must not stop the runner.
BATCH_LOCK_TIMEOUT = "2s"
# Ready messages of a backend and direction whose jobs wait, oldest first, skipping
# those another batch holds (run on a side cursor, whose locks end with the statement).
BATCH_CANDIDATES_SQL = """
    SELECT m.id FROM integration_message m JOIN queue_job j ON j.id = m.job_id
     WHERE m.backend_id = %(backend)s AND m.direction = %(direction)s
       AND m.state IN ('queued', 'retrying') AND m.id <> %(me)s
       AND j.state = 'pending' AND (j.eta IS NULL OR j.eta <= now() at time zone 'utc')
     ORDER BY m.id LIMIT %(size)s FOR NO KEY UPDATE OF j SKIP LOCKED"""
BATCH_LOCK_SQL = """
    SELECT m.id FROM integration_message m JOIN queue_job j ON j.id = m.job_id
     WHERE m.id IN %(ids)s AND m.state IN ('queued', 'retrying')
       AND j.state = 'pending' AND (j.eta IS NULL OR j.eta <= now() at time zone 'utc')
     ORDER BY m.id FOR NO KEY UPDATE OF j SKIP LOCKED"""
# The last attempt at processing the messages of one ordering key.
LAST_TURN_SQL = """
    SELECT max(a.id) FROM integration_message_attempt a
      JOIN integration_message m ON m.id = a.message_id
     WHERE m.backend_id = %s AND m.direction = 'in' AND m.ordering_key = %s"""


def _label(value):
    """A Prometheus label value: backslashes, quotes and newlines escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@functools.lru_cache(maxsize=16)
def _inbound_insert_sql(columns, job_columns):
    """Text of the statement that stores an inbound message (and its job, if any)."""
    message_sql = (
        f"INSERT INTO integration_message ({', '.join(columns)}, create_date, write_date) "
        f"VALUES ({', '.join(['%s'] * len(columns))}, "
        "now() at time zone 'utc', now() at time zone 'utc') "
        "ON CONFLICT (endpoint_id, sender_message_id) DO NOTHING RETURNING id"
    )
    if not job_columns:
        return message_sql
    return (
        f"WITH message AS ({message_sql}) "
        f"INSERT INTO queue_job ({', '.join(job_columns)}) "
        f"SELECT {', '.join(['%s'] * len(job_columns))} FROM message RETURNING id"
    )


class IntegrationMessage(models.Model):
    _name = "integration.message"
    _description = "Integration Message"
    # The chatter keeps every change of state, with who made it (replay, cancel).
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    direction = fields.Selection(
        [("in", "Inbound"), ("out", "Outbound")], required=True, default="in", readonly=True
    )
    backend_id = fields.Many2one("integration.backend", required=True, readonly=True, index=True)
    endpoint_id = fields.Many2one("integration.endpoint", readonly=True, ondelete="restrict")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    event_type = fields.Char(required=True, readonly=True)
    event_type_id = fields.Many2one(
        "integration.event.type", string="Registered event type", readonly=True
    )
    sender_message_id = fields.Char(
        string="Sender message id", readonly=True, help="The webhook-id header."
    )
    correlation_id = fields.Char(readonly=True, index=True)
    reference = fields.Char(
        string="Business reference",
        readonly=True,
        index="btree_not_null",
        help="The business record's own id in the event (a charge, an order, a patient): "
        "what people search by.",
    )
    ordering_key = fields.Char(
        readonly=True,
        index="btree_not_null",
        help="The record the event is about. Inbound: from its event type's ordering key, "
        "at arrival; messages of one backend with the same key are processed one at a "
        "time, in arrival order. Outbound: ordered subscriptions deliver the messages of "
        "one record in order.",
    )
    payload = fields.Text(string="Raw payload", readonly=True, help="The body exactly as received.")
    payload_pretty = fields.Text(compute="_compute_payload_pretty", string="Payload")
    source_format = fields.Selection(
        [("json", "Canonical JSON")],
        default="json",
        required=True,
        readonly=True,
        help="The format the sender used; adapters translate theirs into a canonical event.",
    )
    raw_body = fields.Text(
        string="Original message",
        readonly=True,
        help="The message exactly as an adapter received it (HL7 v2, FHIR), before it was "
        "translated into the canonical event.",
    )
    payload_sha256 = fields.Char(readonly=True)
    headers = fields.Text(readonly=True, help="Request headers, without credentials.")
    headers_text = fields.Text(compute="_compute_headers_text", string="Headers, one per line")
    state = fields.Selection(
        STATES, required=True, default="received", readonly=True, index=True, tracking=True
    )
    attempt_ids = fields.One2many("integration.message.attempt", "message_id", readonly=True)
    attempt_count = fields.Integer(compute="_compute_attempt_stats", store=True)
    next_attempt_date = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    failure_fingerprint = fields.Char(
        compute="_compute_failure_fingerprint",
        store=True,
        index="btree_not_null",
        readonly=True,
        help="Set when the message dies: dead messages of the same backend and event "
        "type whose errors differ only in their values are one issue.",
    )
    duration_ms = fields.Integer(
        string="Duration (ms)",
        compute="_compute_attempt_stats",
        store=True,
        # Summed over messages, durations mean nothing: reports show their average.
        aggregator="avg",
        help="Of the last attempt.",
    )
    done_date = fields.Datetime(readonly=True)
    payload_purged_date = fields.Datetime(
        readonly=True, help="When the payload and headers were purged (backend's retention)."
    )
    duplicate_count = fields.Integer(
        default=0, readonly=True, help="Times the sender sent this message again (not processed)."
    )
    job_id = fields.Many2one("queue.job", readonly=True, index="btree_not_null")
    job_state = fields.Selection(related="job_id.state", store=True, string="Job state")
    result_model = fields.Char(readonly=True)
    result_res_id = fields.Many2oneReference(model_field="result_model", readonly=True)
    result_ref = fields.Reference(
        selection="_selection_result_model",
        compute="_compute_result_ref",
        string="Produced record",
    )
    exception_ids = fields.One2many("integration.exception", "message_id")
    waiting_res_model = fields.Char(
        string="Waiting for model",
        readonly=True,
        help="The model of the record this message waits for (events out of order).",
    )
    waiting_external_id = fields.Char(
        string="Waiting for",
        readonly=True,
        help="The external id of the record this message waits for; its binding retries "
        "the message at once.",
    )
    review_bypass_rule_ids = fields.Many2many(
        "integration.review.rule",
        string="Approved past",
        readonly=True,
        help="Review rules a person approved this message past: its next processing "
        "skips them, once.",
    )

    _sql_constraints = [
        (
            "sender_message_uniq",
            "unique(endpoint_id, sender_message_id)",
            "This endpoint already received a message with this id.",
        ),
    ]

    def init(self):
        res = super().init()
        # The Overview counts each backend's recent messages without reading older ones.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS integration_message_backend_create_date_idx "
            "ON integration_message (backend_id, create_date)"
        )
        # The Messages list opens on the backlog in its default order (id desc): read
        # backwards on this index, its first page costs 80 index entries, and its
        # counts visit the backlog's entries only. On the full state index the first
        # page sorted the whole backlog, or, when the planner expected many matches,
        # walked the primary key backwards through every newer done message.
        create_index(
            self.env.cr,
            BACKLOG_INDEX,
            self._table,
            ["id"],
            where="state IN ({})".format(", ".join(f"'{state}'" for state in BACKLOG_STATES)),
        )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        # Inbound messages stored through the ORM rather than the intake's statement
        # get their ordering key as the intake gives it.
        for vals in vals_list:
            if (
                vals.get("direction", "in") == "in"
                and vals.get("event_type_id")
                and "ordering_key" not in vals
            ):
                try:
                    event = payload_lib.loads(vals.get("payload") or "{}")
                except payload_lib.PayloadError:
                    event = None  # its processing opens an exception
                data = event.get("data") if isinstance(event, dict) else None
                event_type = self.env["integration.event.type"].browse(vals["event_type_id"])
                vals["ordering_key"] = event_type._ordering_key(data)
        return super().create(vals_list)

    @api.depends("event_type", "reference", "sender_message_id")
    def _compute_name(self):
        for message in self:
            message.name = (
                f"{message.reference} · {message.event_type}"
                if message.reference
                else f"{message.event_type} · {message.sender_message_id or message.id}"
            )

    @api.depends("attempt_ids.duration_ms")
    def _compute_attempt_stats(self):
        for message in self:
            message.attempt_count = len(message.attempt_ids)
            message.duration_ms = message.attempt_ids.sorted("number")[-1:].duration_ms

    @api.depends("state", "backend_id", "event_type", "last_error")
    def _compute_failure_fingerprint(self):
        for message in self:
            message.failure_fingerprint = (
                fingerprint(
                    message.backend_id.id, message.event_type, DEAD_KIND, message.last_error
                )
                if message.state == "dead"
                else False
            )

    @api.depends("payload")
    def _compute_payload_pretty(self):
        for message in self:
            try:
                message.payload_pretty = json.dumps(
                    json.loads(message.payload), indent=2, ensure_ascii=False
                )
            except (TypeError, ValueError):
                message.payload_pretty = message.payload

    @api.depends("headers")
    def _compute_headers_text(self):
        for message in self:
            message.headers_text = headers_lib.as_text(message.headers)

    @api.model
    def _selection_result_model(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("result_model", "result_res_id")
    def _compute_result_ref(self):
        for message in self:
            message.result_ref = (
                f"{message.result_model},{message.result_res_id}"
                if message.result_model and message.result_res_id
                else False
            )

    @api.model
    def _reference_of(self, data):
        """The business reference of an event's ``data``: its own ``id``, if any."""
        reference = data.get("id") if isinstance(data, dict) else None
        return str(reference)[:255] if reference not in (None, "") else None

    def _data(self):
        try:
            return payload_lib.loads(self.payload).get("data") or {}
        except payload_lib.PayloadError as error:
            # Content no handler can ever store (NUL, lone surrogates, NaN…): retrying
            # cannot help, a person must look at it.
            raise IntegrationBusinessError(
                self.env._(
                    "The payload cannot be processed (%(code)s): %(reason)s.",
                    code=error.code,
                    reason=str(error),
                ),
                kind="validation",
            ) from error

    # Life cycle --------------------------------------------------------------

    def _job_options(self, channel=None, eta=None):
        """Options of this message's processing job, for with_delay() and Job()."""
        self.ensure_one()
        return {
            # Channels are queue_job's configuration, which integration users may not read.
            "channel": channel or self.backend_id.sudo().channel_id.complete_name,
            "eta": eta,
            "identity_key": f"integration.message,{self.id},process",
        }

    def _enqueue(self, eta=None):
        """Queue one processing job per message on its backend's channel.

        Jobs run as the hub's technical user with its full rights, as webhook jobs do,
        whoever queued them (a manager replaying, a user whose action emitted).
        """
        hub_env = self.env(user=self.env["integration.endpoint"]._webhook_uid(), su=True)
        for message in self:
            job = (
                message.with_env(hub_env).with_delay(**message._job_options(eta=eta))._job_process()
            )
            # A job already waiting with the same identity key comes back as a record.
            job_record = job if isinstance(job, models.BaseModel) else job.db_record()
            message.write(
                {
                    "job_id": job_record.id,
                    "state": "retrying" if eta else "queued",
                    "next_attempt_date": eta,
                }
            )

    @api.model
    def _store_inbound(self, values, channel=None):
        """Store an inbound message and, when ``channel`` is given, its queued job.

        The webhook's hot path: message, job and the link between them are written
        by one INSERT statement, on the unique constraint that deduplicates across
        workers, instead of the ORM's several queries. ``values["id"]`` comes from
        the sequence. Returns False when the endpoint already has this sender id;
        a concurrent request still holding that id makes PostgreSQL raise a
        serialization failure, and Odoo then replays the request, which finds it.
        """
        values = dict(values, create_uid=self.env.uid, write_uid=self.env.uid)
        params = list(values.values())
        job_columns = ()
        if channel:
            message = self.browse(values["id"])
            job = Job(message._job_process, **message._job_options(channel=channel))
            job_values = job._store_values(create=True)
            job_model = self.env["queue.job"]
            job_columns = ("id", *job_values)  # queue.job keeps no create/write log
            params.append(values["job_id"])
            params.extend(
                job_model._fields[name].convert_to_column_insert(value, job_model)
                for name, value in job_values.items()
            )
        self.env.cr.execute(_inbound_insert_sql(tuple(values), job_columns), params)
        return bool(self.env.cr.fetchone())

    def _job_process(self):
        """Process integration message"""
        self.ensure_one()
        if self.state not in ("queued", "retrying"):
            return f"Nothing to do: the message is {self.state}."
        if self.backend_id.state == "paused":
            raise RetryableJobError(
                "The backend is paused.", seconds=PAUSED_BACKEND_RECHECK, ignore_retry=True
            )
        if self.direction == "out":
            # A delivery's attempts are its record: tracking each outbound message's
            # state in its chatter would cost a third of the delivery.
            return self.with_context(tracking_disable=True)._deliver()
        turns = set()
        result = self._process_in_turn(turns)
        if self.ordering_key:
            turns.add(self.ordering_key)
        processed = self._claim_batch(self.backend_id.sudo().batch_size)._process_batch(turns)
        return f"{result} (and {processed} more in this batch)" if processed else result

    def _process_in_turn(self, turns, batched=False):
        """Process this inbound message once its turn has come (see _wait_for_turn).

        ``turns``: the ordering keys whose turn this transaction already holds (taken
        by a message processed before this one in the same job).
        """
        if not self.ordering_key:
            return self._process_inbound(batched)
        self._wait_for_turn(held=self.ordering_key in turns)
        result = self._process_inbound(batched)
        self._wake_next_of_key()
        return result

    def _claim_batch(self, size):
        """Up to ``size`` - 1 other ready messages of this backend and direction whose
        jobs wait, locked for this transaction (oldest first, skipping those another
        batch holds)."""
        if size <= 1 or self.backend_id.state == "paused":
            return self.browse()
        # Candidates as committed now (this transaction's snapshot may be older) and
        # held by no other batch, then locked here; a row changed since the snapshot
        # makes PostgreSQL refuse the lock, and there is then no batch.
        params = {
            "backend": self.backend_id.id,
            "direction": self.direction,
            "me": self.id,
            "size": size - 1,
        }
        with side_cursor(self.env) as cr:
            cr.execute(BATCH_CANDIDATES_SQL, params)
            params["ids"] = tuple(row[0] for row in cr.fetchall()) or (0,)
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(BATCH_LOCK_SQL, params)
                ids = [row[0] for row in self.env.cr.fetchall()]
        except OperationalError as exc:
            if exc.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                raise
            return self.browse()
        return self.browse(ids)

    def _process_batch(self, turns):
        """Process these inbound messages after the job's own, oldest first, each in a
        savepoint as its own job would; the number processed.

        A message the batch cannot process now is left to its own job, untouched: one
        whose turn has not come, one waiting for a record (which may be on its way in
        another transaction that this one cannot see yet), one whose rows another
        transaction changed or holds for longer than BATCH_LOCK_TIMEOUT, one that
        fails unexpectedly.
        """
        started = time.monotonic()
        processed = 0
        if self:
            self.env.cr.execute("SET LOCAL lock_timeout = %s", [BATCH_LOCK_TIMEOUT])
        for message in self:
            if time.monotonic() - started > BATCH_TIME_BUDGET:
                break
            try:
                with self.env.cr.savepoint():
                    # Its job is done first: a retry then queues its next job.
                    message._take_over_jobs()
                    message._process_in_turn(turns, batched=True)
            except (RetryableJobError, WaitingForRecordError):
                continue
            except Exception as error:  # its own job runs it alone, and records the failure
                concurrent = getattr(error, "pgcode", None) in PG_CONCURRENCY_ERRORS_TO_RETRY
                if not concurrent:  # another transaction's rows: expected, not logged
                    _logger.exception("integration message %s: left to its own job", message.id)
                continue
            if message.ordering_key:
                turns.add(message.ordering_key)
            processed += 1
        if self:
            self.env.cr.execute("SET LOCAL lock_timeout = DEFAULT")
        return processed

    def _take_over_jobs(self):
        """These messages are processed by the running job: their own jobs are done.

        One statement for them all: queue_job's ORM write costs as much as a delivery.
        """
        jobs = self.sudo().job_id
        if not jobs:
            return
        fnames = ["state", "date_done", "result"]
        jobs.flush_recordset(fnames)
        self.env.cr.execute(
            """UPDATE queue_job SET state = 'done', date_done = %s, result = %s
                WHERE id IN %s AND state NOT IN ('done', 'cancelled')""",
            (
                fields.Datetime.now(),
                f"Processed in the batch of job {self.env.context.get('job_uuid')}",
                tuple(jobs.ids),
            ),
        )
        jobs.invalidate_recordset(fnames)
        jobs.modified(fnames)  # the messages' job_state follows

    def _process_inbound(self, batched=False):
        """Process an inbound message whose turn has come: done, an exception for a
        person, waiting for a record, or a technical failure retried. In a batch, a
        message waiting for a record is left to its own job (WaitingForRecordError)."""
        started = time.monotonic()
        attempt_values = {
            "message_id": self.id,
            "number": self.attempt_count + 1,
            "start_date": fields.Datetime.now(),
            "job_uuid": self.env.context.get("job_uuid"),
        }
        try:
            with self.env.cr.savepoint():
                # Every change until the savepoint's end (its flush and recomputations
                # included) is the message's: subscriptions do not echo it back to its
                # backend. Entering and leaving the savepoint runs the precommit hooks.
                self.env.cr.precommit.data[ORIGIN_KEY] = self.id
                data = self._data()
                self.env["integration.review.rule"]._check_message(self, data)
                record = self.event_type_id._handler()._handle(self, data)
        except WaitingForRecordError as error:
            if batched:
                raise
            return self._wait_for_record(attempt_values, started, error)
        except UserError as error:
            self._finish_attempt(attempt_values, started, "exception", error)
            self.state = "exception"
            self.env["integration.exception"]._open_for(self, error)
            return "Business exception opened."
        except Exception as error:  # any other error is technical: retried
            if (
                isinstance(error, OperationalError)
                and error.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY
            ):
                # A concurrent transaction changed the same rows (two consumptions of
                # one item at one location): queue_job runs the job again in a fresh
                # transaction, as Odoo retries such requests. Not a failed attempt.
                raise
            self._finish_attempt(attempt_values, started, "failed", error)
            # A RetryableJobError's delay is honoured, within the backend's attempts.
            return self._retry_or_die(at_least=getattr(error, "seconds", None) or 0)
        self._finish_attempt(attempt_values, started, "done")
        # Not tracked in the chatter: the attempt just recorded (when, how long, which
        # job) is the audit trail of an automatic success, and a tracking note per
        # processed message cost two more inserts each (a snapshot of 10,000
        # employees). Failures, replays and cancellations are still tracked.
        self.with_context(mail_notrack=True).write(
            {
                "state": "done",
                "waiting_res_model": False,
                "waiting_external_id": False,
                "done_date": fields.Datetime.now(),
                "next_attempt_date": False,
                "result_model": record._name if record else False,
                "result_res_id": record.id if record else False,
                # An approval past a review rule is used up.
                "review_bypass_rule_ids": [(5, 0, 0)],
            }
        )
        self.exception_ids._resolve_by_success()
        return f"Done: {record.display_name if record else 'nothing to change'}"

    def _wake_next_of_key(self):
        """The next queued message of this ordering key was postponed while this one
        was ahead of it: its job is due now, with this transaction, rather than at its
        recheck (a burst of one key would otherwise wait out each recheck)."""
        self.env.cr.execute(
            WAKE_NEXT_OF_KEY_SQL,
            {"backend": self.backend_id.id, "key": self.ordering_key, "id": self.id},
        )

    def _wait_for_turn(self, held=False):
        """Raise (job postponed, no attempt counted) unless it is this message's turn.

        Its turn has come when no other message of its backend with the same ordering
        key is being processed (a transaction-level advisory lock on the key, held
        until this job's transaction ends) and none that arrived earlier is still
        queued, or retrying after a technical error. Earlier messages parked for a
        person (exception), for another record (waiting) or dead do not hold it up:
        handlers cope with events out of order, and one bad event must not stop its
        record's next ones until someone looks (see the README).
        """
        cr = self.env.cr
        params = (self.backend_id.id, self.ordering_key)
        cr.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", params)
        if not cr.fetchone()[0]:
            raise RetryableJobError(
                f"Another message of {self.ordering_key} is being processed.",
                seconds=TURN_RECHECK,
                ignore_retry=True,
            )
        earlier = self.search(
            [
                ("backend_id", "=", self.backend_id.id),
                ("direction", "=", "in"),
                ("ordering_key", "=", self.ordering_key),
                ("id", "<", self.id),
                ("state", "in", TURN_HOLDING_STATES),
                ("waiting_external_id", "=", False),
            ],
            order="id",
            limit=TURN_RECHECK_MAX,
        )
        if earlier:
            # A second per message ahead, or until the first one's next attempt.
            wait = len(earlier) * TURN_RECHECK
            first = earlier[0]
            if first.state == "retrying" and first.next_attempt_date:
                wait = (first.next_attempt_date - fields.Datetime.now()).total_seconds()
            raise RetryableJobError(
                f"Waiting for the earlier message {first.id} of {self.ordering_key} "
                f"({len(earlier)} ahead).",
                seconds=int(min(max(wait, TURN_RECHECK), TURN_RECHECK_MAX)),
                ignore_retry=True,
            )
        if held:
            return  # held since this transaction last looked: no one else came since
        # The lock's last holder may have committed after this transaction's snapshot
        # was taken: what it did would be invisible here (a charge not seen by its
        # appointment). Its attempt tells: the key's last attempt, here and as committed.
        self.env["integration.message.attempt"].flush_model()
        cr.execute(LAST_TURN_SQL, params)
        seen = cr.fetchone()[0]
        with side_cursor(self.env) as side:
            side.execute(LAST_TURN_SQL, params)
            committed = side.fetchone()[0]
        if seen != committed:
            raise RetryableJobError(
                f"A message of {self.ordering_key} was processed since this job began.",
                seconds=TURN_RECHECK,
                ignore_retry=True,
            )

    def _wait_for_record(self, attempt_values, started, error):
        """A record the message needs has not arrived: retry on the backend's schedule
        (or at once when it is bound), and after the last attempt open an exception
        for a person, which the record's arrival still retries by itself."""
        self.write({"waiting_res_model": error.res_model, "waiting_external_id": error.external_id})
        max_attempts = self.backend_id._retry_policy(self.direction)[0]
        if self.attempt_count + 1 >= max_attempts:
            self._finish_attempt(attempt_values, started, "exception", error)
            self.write({"state": "exception", "next_attempt_date": False})
            self.env["integration.exception"]._open_for(self, error)
            return "Still waiting after the last attempt: exception opened."
        self._finish_attempt(attempt_values, started, "waiting", error)
        return self._retry_or_die()

    @api.model
    def _wake_waiting(self, backend, res_model, external_id):
        """Retry at once the messages of ``backend`` waiting for this record.

        A message still retrying has its pending job moved to now; one whose attempts
        ran out (an open exception) is replayed. Jobs running right now are left alone.
        """
        waiting = self.search(
            [
                ("backend_id", "=", backend.id),
                ("waiting_res_model", "=", res_model),
                ("waiting_external_id", "=", str(external_id)),
                ("state", "in", ("retrying", "exception")),
            ]
        )
        if not waiting:
            return waiting
        retrying = waiting.filtered(lambda m: m.state == "retrying" and m.job_id)
        if retrying:
            self.env.flush_all()
            self.env.cr.execute(
                """SELECT id FROM queue_job WHERE id IN %s AND state = 'pending'
                   FOR UPDATE SKIP LOCKED""",
                [tuple(retrying.job_id.ids)],
            )
            free_jobs = [row[0] for row in self.env.cr.fetchall()]
            if free_jobs:
                self.env.cr.execute(
                    "UPDATE queue_job SET eta = NULL WHERE id IN %s", [tuple(free_jobs)]
                )
                self.env["queue.job"].invalidate_model(["eta"])
            retrying.filtered(lambda m: m.job_id.id in free_jobs).write(
                {"next_attempt_date": False}
            )
        exceptions = waiting.exception_ids.filtered(lambda e: e.state in ("open", "in_progress"))
        if exceptions:
            exceptions._retry_on_arrival(res_model, external_id)
        return waiting

    def _finish_attempt(self, values, started, outcome, error=None):
        """Record the attempt; what follows it is for the caller to decide."""
        values = self._attempt_values(values, started, outcome, error)
        self.env["integration.message.attempt"].create(values)
        # Untracked (the error is not a tracked field): a tracked write here would
        # snapshot the state and track a success after all.
        self.with_context(mail_notrack=True).last_error = values["error"]

    @api.model
    def _attempt_values(self, values, started, outcome, error=None):
        """An attempt's row as it ends now: ``error`` is a summary or an exception
        (whose traceback is kept)."""
        summary = False
        if isinstance(error, str):
            summary = error
        elif error is not None:
            summary = error_text(error)
            values = dict(values, traceback="".join(traceback.format_exception(error)))
        return dict(
            values,
            end_date=fields.Datetime.now(),
            duration_ms=int((time.monotonic() - started) * 1000),
            outcome=outcome,
            error=summary,
        )

    def _retry_or_die(self, at_least=0):
        """Queue the next attempt, at least ``at_least`` seconds from now, or give up."""
        max_attempts, schedule = self.backend_id._retry_policy(self.direction)
        if self.attempt_count >= max_attempts:
            self.write({"state": "dead", "next_attempt_date": False})
            _logger.warning(
                "integration message %s is dead after %s attempts", self.id, self.attempt_count
            )
            return f"Dead after {self.attempt_count} attempts."
        delay = max(delay_after(self.attempt_count, schedule), at_least)
        self._enqueue(eta=fields.Datetime.now() + timedelta(seconds=delay))
        return f"Technical error: next attempt in {delay} s."

    @api.model
    def _cron_reconcile_jobs(self):
        """Messages whose job failed or was cancelled outside the hub are dead.

        queue_job marks a job failed when its worker died too often; the message
        must not stay queued for ever.
        """
        # The job's own state: queue_job changes some states in SQL, past the ORM.
        stuck = self.search(
            [
                ("state", "in", ("queued", "retrying")),
                ("job_id.state", "in", ("failed", "cancelled")),
            ]
        )
        for message in stuck:
            job = message.job_id
            # In words, never queue_job's class names (JobFoundDead).
            if job.exc_message:
                reason = job.exc_message
            elif job.exc_name == "JobFoundDead":
                reason = self.env._("its worker stopped too many times while running it")
            else:
                reason = self.env._("no error was recorded")
            message.write(
                {
                    "state": "dead",
                    "next_attempt_date": False,
                    "last_error": self.env._(
                        "Its job ended %(state)s: %(error)s", state=job.state, error=reason
                    ),
                }
            )
        return len(stuck)

    @api.model
    def _cron_apply_retention(self, batch_size=1000):
        """Delete the messages past their backend's retention, one batch per call.

        Done, cancelled and ignored messages go ``payload_retention_days`` after their
        last change, dead and exception ones ``failed_retention_days`` after it; queued,
        received and retrying ones never. A message goes whole, with everything derived
        from its payload: attempts (errors, tracebacks, response excerpts), exceptions
        (explanations) and the chatter of both, and its jobs' queue_job rows (result,
        error, traceback). Each call deletes at most ``batch_size`` messages and reports
        through the cron progress API whether more remain: Odoo's cron runner commits
        and calls again, so each transaction stays short and locks only the rows it
        deletes (rows a job holds are skipped, not waited for). Returns the number of
        messages deleted.
        """
        self.env.flush_all()
        now = fields.Datetime.now()
        rules = []
        backends = self.env["integration.backend"].sudo().with_context(active_test=False)
        for backend in backends.search([], order="id"):
            for days, states in (
                (backend.payload_retention_days, PURGEABLE_STATES),
                (backend.failed_retention_days, FAILED_STATES),
            ):
                if days > 0:
                    rules.append((backend, states, now - timedelta(days=days)))
        deleted = 0
        remaining = False
        for backend, states, cutoff in rules:
            room = batch_size - deleted
            if room <= 0:
                remaining = True
                break
            ids = self._retention_candidates(backend, states, cutoff, room)
            if ids:
                deleted += self._delete_for_retention(backend, ids)
            remaining = remaining or len(ids) == room
        self.env["ir.cron"]._notify_progress(done=deleted, remaining=int(remaining))
        return deleted

    @api.model
    def _retention_candidates(self, backend, states, cutoff, limit):
        """Ids of up to ``limit`` messages of ``backend`` in ``states`` unchanged since
        ``cutoff``, oldest first, locked; none whose job is still waiting or running."""
        self.env.cr.execute(
            """SELECT m.id FROM integration_message m
                WHERE m.backend_id = %s AND m.state IN %s AND m.write_date < %s
                  AND NOT EXISTS (
                      SELECT 1 FROM queue_job j WHERE j.id = m.job_id
                         AND j.state IN ('wait_dependencies', 'pending', 'enqueued', 'started'))
                ORDER BY m.id LIMIT %s
                  FOR UPDATE OF m SKIP LOCKED""",
            (backend.id, tuple(states), cutoff, limit),
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _delete_for_retention(self, backend, ids):
        """Delete the messages ``ids`` of ``backend`` and all that derives from them.

        In SQL, by batch: the ORM would load each record and its chatter first. The
        exceptions go with their messages (their explanations quote the payload's codes);
        when some do, the backend's chatter keeps a summary: how many, of which kind and
        how they ended, with no message content.
        """
        cr = self.env.cr
        cr.execute(
            """SELECT j.id FROM queue_job j
                WHERE j.id IN (SELECT job_id FROM integration_message WHERE id = ANY(%(ids)s))
                  AND j.state NOT IN ('wait_dependencies', 'pending', 'enqueued', 'started')
               UNION
               SELECT j.id FROM integration_message_attempt a
                 JOIN queue_job j ON j.uuid = a.job_uuid
                WHERE a.message_id = ANY(%(ids)s)
                  AND j.state NOT IN ('wait_dependencies', 'pending', 'enqueued', 'started')""",
            {"ids": ids},
        )
        job_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            """SELECT id, kind, state FROM integration_exception WHERE message_id = ANY(%s)""",
            (ids,),
        )
        exceptions = cr.fetchall()
        exception_ids = [row[0] for row in exceptions]
        for model, res_ids in (
            ("integration.message", ids),
            ("integration.exception", exception_ids),
            ("queue.job", job_ids),
        ):
            if res_ids:
                self._delete_chatter(model, res_ids)
        # Attempts and exceptions follow their message (ON DELETE CASCADE).
        cr.execute("DELETE FROM integration_message WHERE id = ANY(%s)", (ids,))
        deleted = cr.rowcount
        if job_ids:
            cr.execute("DELETE FROM queue_job WHERE id = ANY(%s)", (job_ids,))
        self.env.invalidate_all()
        _logger.info(
            "retention deleted %s messages, %s exceptions and %s jobs of backend %s",
            deleted,
            len(exceptions),
            len(job_ids),
            backend.id,
        )
        if exceptions:
            self._post_retention_summary(backend, exceptions)
        return deleted

    @api.model
    def _delete_chatter(self, model, res_ids):
        """Chatter, followers, activities and attachments of records deleted in SQL."""
        cr = self.env.cr
        cr.execute(
            "DELETE FROM mail_message WHERE model = %s AND res_id = ANY(%s)", (model, res_ids)
        )
        cr.execute(
            "DELETE FROM mail_followers WHERE res_model = %s AND res_id = ANY(%s)",
            (model, res_ids),
        )
        cr.execute(
            "DELETE FROM mail_activity WHERE res_model = %s AND res_id = ANY(%s)",
            (model, res_ids),
        )
        # Attachments through the ORM, which also releases their files.
        self.env["ir.attachment"].sudo().search(
            [("res_model", "=", model), ("res_id", "in", res_ids)]
        ).unlink()

    @api.model
    def _post_retention_summary(self, backend, exceptions):
        """Tell the backend's chatter which exceptions retention deleted (counts only)."""
        kinds = dict(
            self.env["integration.exception"]._fields["kind"]._description_selection(self.env)
        )
        states = dict(
            self.env["integration.exception"]._fields["state"]._description_selection(self.env)
        )
        counts = {}
        for _id, kind, state in exceptions:
            key = (kinds.get(kind, kind), states.get(state, state))
            counts[key] = counts.get(key, 0) + 1
        backend.message_post(
            body=self.env._(
                "Retention deleted %(count)s exceptions with their messages: %(detail)s.",
                count=len(exceptions),
                detail=", ".join(
                    f"{kind} / {state}: {count}" for (kind, state), count in sorted(counts.items())
                ),
            )
        )

    @api.model
    def _backlog_counts(self):
        """Messages of the backlog by state (all companies), for health and monitors.

        Done, cancelled and ignored messages are not counted: they are most of the
        store, and counting them would cost a scan of it on every probe.
        """
        self.flush_model(["state"])
        self.env.cr.execute(
            "SELECT state, count(*) FROM integration_message WHERE state IN %s GROUP BY state",
            (BACKLOG_STATES,),
        )
        return dict.fromkeys(BACKLOG_STATES, 0) | dict(self.env.cr.fetchall())

    @api.model
    def _oldest_pending_age(self):
        """Seconds the oldest queued or retrying message has waited (0 when none)."""
        self.env.cr.execute(
            """SELECT EXTRACT(EPOCH FROM (now() at time zone 'utc') - min(create_date))
                 FROM integration_message WHERE state IN ('queued', 'retrying')"""
        )
        return int(self.env.cr.fetchone()[0] or 0)

    @api.model
    def _prometheus_metrics(self):
        """The hub's state in Prometheus' text format (see /integration/metrics)."""
        cr = self.env.cr
        lines = [
            "# HELP integration_messages Messages of the backlog (received, queued, retrying, "
            "exception, dead) by backend, direction and state.",
            "# TYPE integration_messages gauge",
        ]
        # The backlog only: done messages are most of the store, and retention deletes them.
        cr.execute(
            """SELECT b.code, m.direction, m.state, count(*) FROM integration_message m
                 JOIN integration_backend b ON b.id = m.backend_id
                WHERE m.state IN %s
                GROUP BY b.code, m.direction, m.state ORDER BY 1, 2, 3""",
            (BACKLOG_STATES,),
        )
        lines += [
            f'integration_messages{{backend="{_label(code)}",direction="{direction}",'
            f'state="{state}"}} {count}'
            for code, direction, state, count in cr.fetchall()
        ]
        lines += [
            "# HELP integration_oldest_pending_seconds Age of the oldest message waiting.",
            "# TYPE integration_oldest_pending_seconds gauge",
            f"integration_oldest_pending_seconds {self._oldest_pending_age()}",
            "# HELP integration_open_exceptions Exceptions waiting for a person, by backend.",
            "# TYPE integration_open_exceptions gauge",
        ]
        cr.execute(
            """SELECT b.code, count(*) FROM integration_exception x
                 JOIN integration_backend b ON b.id = x.backend_id
                WHERE x.state IN ('open', 'in_progress') GROUP BY b.code ORDER BY 1"""
        )
        lines += [
            f'integration_open_exceptions{{backend="{_label(code)}"}} {count}'
            for code, count in cr.fetchall()
        ]
        lines += [
            "# HELP integration_webhook_requests_24h Webhook requests in the last 24 hours.",
            "# TYPE integration_webhook_requests_24h gauge",
        ]
        # Endpoints by id and name: their URL tokens are secrets.
        for endpoint in self.env["integration.endpoint"].search([], order="id"):
            labels = f'endpoint_id="{endpoint.id}",endpoint="{_label(endpoint.name)}"'
            lines += [
                f'integration_webhook_requests_24h{{{labels},result="authenticated"}} '
                f"{endpoint.request_count_24h}",
                f'integration_webhook_requests_24h{{{labels},result="refused"}} '
                f"{endpoint.rejected_count_24h}",
            ]
        return "\n".join(lines) + "\n"

    # Actions -----------------------------------------------------------------

    def action_replay(self):
        """Queue the messages again, keeping their history of attempts."""
        purged = self.filtered("payload_purged_date")
        if purged:
            raise UserError(
                self.env._(
                    "The payloads of %(names)s were purged after their retention period: "
                    "ask the sending system to send them again.",
                    names=", ".join(purged.mapped("name")),
                )
            )
        not_replayable = self.filtered(lambda m: m.state not in REPLAYABLE_STATES)
        if not_replayable:
            raise UserError(
                self.env._(
                    "Only dead, exception, done or ignored messages can be replayed; "
                    "%(names)s cannot.",
                    names=", ".join(not_replayable.mapped("name")),
                )
            )
        for message in self.filtered(lambda m: m.state == "ignored"):
            message._accept_event_type()
        self._enqueue()
        # The exceptions' state is the hub's to write (elevated), whoever replays.
        self.exception_ids.sudo().filtered(lambda e: e.state == "open").write(
            {"state": "in_progress"}
        )
        return True

    @api.model
    def _bulk_domain(self, operation, include_done=False):
        """The messages a bulk ``operation`` (replay, cancel) applies to; the others of a
        selection are left as they are. Done messages are replayed only on request."""
        if operation == "cancel":
            return [("state", "in", CANCELLABLE_STATES)]
        states = BULK_REPLAY_STATES + (("done",) if include_done else ())
        return [("state", "in", states), ("payload_purged_date", "=", False)]

    def _bulk_apply(self, operation):
        """Replay or cancel these messages (all applicable); returns how many could not
        be: an ignored message whose endpoint does not accept its type is left ignored,
        not a reason to refuse the others."""
        if operation == "cancel":
            self.action_cancel()
            return 0
        ignored = self.filtered(lambda m: m.state == "ignored")
        (self - ignored).action_replay()
        refused = 0
        for message in ignored:
            try:
                with self.env.cr.savepoint():
                    message.action_replay()
            except UserError:
                refused += 1
        return refused

    def _accept_event_type(self):
        """An ignored message can be replayed once its endpoint accepts its type."""
        event_type = self.endpoint_id.event_type_ids.filtered(lambda t: t.code == self.event_type)
        if not event_type:
            raise UserError(
                self.env._(
                    "Endpoint %(endpoint)s does not accept %(type)s events: add the event "
                    "type to the endpoint, then replay.",
                    endpoint=self.endpoint_id.name,
                    type=self.event_type,
                )
            )
        # Ordered from now on, as if it had arrived with the type accepted.
        self.write(
            {"event_type_id": event_type.id, "ordering_key": event_type._ordering_key(self._data())}
        )

    def action_cancel(self):
        not_cancellable = self.filtered(lambda m: m.state not in CANCELLABLE_STATES)
        if not_cancellable:
            raise UserError(
                self.env._(
                    "Messages already done or cancelled cannot be cancelled: %(names)s.",
                    names=", ".join(not_cancellable.mapped("name")),
                )
            )
        pending_jobs = self.sudo().job_id.filtered(
            lambda j: j.state in ("pending", "wait_dependencies")
        )
        pending_jobs.button_cancelled()
        self.write({"state": "cancelled", "next_attempt_date": False})
        self.exception_ids._cancel_with_message()
        return True

    def _related_action_message(self):
        """Related action of the processing jobs: open the message."""
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
