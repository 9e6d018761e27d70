import json
import logging
import time

from psycopg2 import OperationalError

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from odoo.addons.queue_job.exception import RetryableJobError

from .. import delivery
from ..side_cursor import side_cursor

_logger = logging.getLogger(__name__)

# An ordered message whose predecessor waits long looks again at most this often.
ORDER_RECHECK_MAX = 3600
ORDER_RECHECK_MIN = 5
# A batch stops taking further messages after this many seconds, well within the
# 10 s after which queue_job's runner would look again at jobs it dispatched.
BATCH_TIME_BUDGET = 5.0

# Ready outbound messages of a backend whose jobs wait, oldest first.
BATCH_CANDIDATES_SQL = """
    SELECT m.id FROM integration_message m JOIN queue_job j ON j.id = m.job_id
     WHERE m.backend_id = %(backend)s AND m.direction = 'out'
       AND m.state IN ('queued', 'retrying') AND m.id <> %(me)s
       AND j.state = 'pending' AND (j.eta IS NULL OR j.eta <= now() at time zone 'utc')
     ORDER BY m.id LIMIT %(size)s"""
BATCH_LOCK_SQL = """
    SELECT m.id FROM integration_message m JOIN queue_job j ON j.id = m.job_id
     WHERE m.id IN %(ids)s AND m.state IN ('queued', 'retrying')
       AND j.state = 'pending' AND (j.eta IS NULL OR j.eta <= now() at time zone 'utc')
     ORDER BY m.id FOR NO KEY UPDATE OF j SKIP LOCKED"""


class CircuitHeld(RetryableJobError):
    """The backend's circuit holds deliveries: the job comes back later."""


class IntegrationMessage(models.Model):
    _inherit = "integration.message"

    subscription_id = fields.Many2one(
        "integration.subscription", readonly=True, index="btree_not_null", ondelete="set null"
    )
    cause_message_id = fields.Many2one(
        "integration.message",
        string="Caused by",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Outbound: the inbound message whose processing changed the record.",
    )
    caused_message_ids = fields.One2many(
        "integration.message", "cause_message_id", string="Outbound messages it caused"
    )
    last_status_code = fields.Integer(
        string="Last HTTP status", related="attempt_ids.status_code", readonly=True
    )

    def _deliver(self):
        """Deliver an outbound message once, then other ready ones of its backend.

        Called by the message's job. Up to the backend's batch size of further
        messages whose jobs wait are delivered by this job over the same keep-alive
        connection, each in its own savepoint with its own attempt, state and fresh
        signature; each one's job is marked done with it. A message the batch cannot
        deliver now (an earlier message of its record waits, the circuit holds it, an
        unexpected error) is left to its own job, untouched. A delivery to be retried
        (5xx, 429, timeout) ends the batch: while the receiver struggles, each message
        goes by its own job, and the circuit counts them as it does without batches.
        """
        batch = self._claim_batch()
        result = self._deliver_once()
        if self.state == "retrying":
            return result  # the receiver struggles: each message goes by its own job
        started = time.monotonic()
        delivered = 0
        for message in batch:
            if time.monotonic() - started > BATCH_TIME_BUDGET or self.backend_id.state == "paused":
                break
            try:
                with self.env.cr.savepoint():
                    message._take_over_job()
                    message._deliver_once()
            except CircuitHeld:
                break
            except RetryableJobError:
                continue  # an earlier message of its record waits: its own job waits too
            except Exception:  # any other error: the message's own job runs it alone later
                _logger.exception(
                    "integration message %s: batched delivery failed, left to its own job",
                    message.id,
                )
                continue
            delivered += 1
            if message.state == "retrying":
                break
        return f"{result} (and {delivered} more in this batch)" if delivered else result

    def _claim_batch(self):
        """Other ready outbound messages of this backend whose jobs wait, locked for
        this transaction (oldest first, skipping those another batch holds)."""
        size = self.backend_id.sudo().outbound_batch_size - 1
        if size <= 0:
            return self.browse()
        # Candidates as committed now (this transaction's snapshot may be older), then
        # locked here; a row changed since the snapshot makes PostgreSQL refuse the
        # lock, and the batch is then simply smaller.
        params = {"backend": self.backend_id.id, "me": self.id, "size": size}
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

    def _take_over_job(self):
        """This message is delivered by the running job: its own job is done."""
        job = self.sudo().job_id
        job.with_context(_job_edit_sentinel=job.EDIT_SENTINEL).write(
            {
                "state": "done",
                "date_done": fields.Datetime.now(),
                "result": f"Delivered in the batch of job {self.env.context.get('job_uuid')}",
            }
        )

    def _deliver_once(self):
        """Deliver this outbound message once."""
        backend = self.backend_id.sudo()
        subscription = self.subscription_id.with_context(active_test=False)
        if subscription and not subscription.active:
            self.write(
                {
                    "state": "dead",
                    "next_attempt_date": False,
                    "last_error": self.env._(
                        "Not delivered: subscription %(name)s is disabled (%(reason)s). "
                        "Enable it, then replay.",
                        name=subscription.name,
                        reason=subscription.disabled_reason or "-",
                    ),
                }
            )
            return "Subscription disabled."
        if subscription.ordered:
            self._wait_for_predecessors()
        wait = backend._circuit_admit()
        if wait is not None:
            # Nothing is dropped or counted as an attempt: the job comes back later.
            raise CircuitHeld(
                f"The delivery circuit of {backend.code} is open.", seconds=wait, ignore_retry=True
            )
        started = time.monotonic()
        attempt_values = {
            "message_id": self.id,
            "number": self.attempt_count + 1,
            "start_date": fields.Datetime.now(),
            "job_uuid": self.env.context.get("job_uuid"),
        }
        answer = self._post(backend)
        if answer.outcome == delivery.DELIVERED:
            backend._circuit_record(success=True)
        elif answer.outcome == delivery.RETRY and answer.status != 429:
            # 429 is a receiver pacing us, not failing: it does not open the circuit.
            backend._circuit_record(success=False)
        self._finish_attempt(
            dict(
                attempt_values,
                status_code=answer.status,
                response_excerpt=answer.excerpt or False,
            ),
            started,
            "done" if answer.outcome == delivery.DELIVERED else "failed",
            answer.error or None,
        )
        if answer.outcome == delivery.DELIVERED:
            self.write(
                {"state": "done", "done_date": fields.Datetime.now(), "next_attempt_date": False}
            )
            return f"Delivered: HTTP {answer.status}"
        if answer.outcome == delivery.RETRY:
            return self._retry_or_die(at_least=answer.retry_after or 0)
        self.write({"state": "dead", "next_attempt_date": False})
        if answer.outcome == delivery.GONE and subscription:
            subscription._disable_gone(self)
        return f"Not delivered, not retried: {answer.error}"

    def _post(self, backend):
        """One HTTP delivery with fresh timestamp and signature, and its answer."""
        body = self.payload.encode()
        if not backend.outbound_url:
            return delivery.Answer(
                outcome=delivery.PERMANENT,
                error=self.env._("Backend %(backend)s has no outbound URL.", backend=backend.name),
            )
        for fresh_token in (False, True):
            try:
                headers = backend._outbound_headers(self.sender_message_id, int(time.time()), body)
            except delivery.TokenError as exc:
                return delivery.Answer(outcome=exc.outcome, error=str(exc))
            except UserError as exc:
                return delivery.Answer(outcome=delivery.PERMANENT, error=str(exc.args[0]))
            self.headers = json.dumps(backend._redact_headers(headers), indent=1)
            answer = delivery.post(
                backend.outbound_url,
                body,
                headers,
                backend._outbound_timeouts(),
                allow_private=backend.outbound_allow_private,
            )
            if answer.status != 401 or backend.outbound_auth_type != "oauth2" or fresh_token:
                return answer
            # The cached token may have been revoked early: fetch a new one, once.
            delivery.forget_token(backend._oauth2_cache_key())
        return answer

    def _wait_for_predecessors(self):
        """Raise (job postponed) while an earlier message of the same record waits."""
        earlier = self.search(
            [
                ("subscription_id", "=", self.subscription_id.id),
                ("ordering_key", "=", self.ordering_key),
                ("id", "<", self.id),
                ("state", "in", ("received", "queued", "retrying")),
            ],
            order="id",
            limit=1,
        )
        if not earlier:
            return
        wait = ORDER_RECHECK_MIN
        if earlier.next_attempt_date:
            wait = (earlier.next_attempt_date - fields.Datetime.now()).total_seconds()
        raise RetryableJobError(
            f"Waiting for the earlier message {earlier.id} of the same record.",
            seconds=int(min(max(wait, ORDER_RECHECK_MIN), ORDER_RECHECK_MAX)),
            ignore_retry=True,
        )
