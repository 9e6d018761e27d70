import json
import logging
import time
from collections import defaultdict
from typing import NamedTuple

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.queue_job.exception import RetryableJobError

from .. import delivery
from .integration_message import BATCH_TIME_BUDGET

_logger = logging.getLogger(__name__)

# An ordered message whose predecessor waits long looks again at most this often.
ORDER_RECHECK_MAX = 3600
ORDER_RECHECK_MIN = 5


class CircuitHeld(RetryableJobError):
    """The backend's circuit holds deliveries: the job comes back later."""


class Sent(NamedTuple):
    """A POST made, not yet written: the message, the receiver's answer, the headers
    as stored (None when nothing was sent) and the attempt's values."""

    message: object
    answer: delivery.Answer
    headers: str | None
    attempt: dict


def _circuit_counts(answer):
    """What the circuit breaker counts of an answer: True a success, False a failure,
    None nothing (a 429 is a receiver pacing us, not failing; a refusal is the
    message's own fault)."""
    if answer.outcome == delivery.DELIVERED:
        return True
    if answer.outcome == delivery.RETRY and answer.status != 429:
        return False
    return None


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
        messages whose jobs wait are then delivered by this job over the same keep-alive
        connection, each with its own attempt, state and fresh signature; each one's job
        is marked done with it. The batch's POSTs go first (they only read), then their
        outcomes are written together. A message the batch cannot deliver now (an
        earlier message of its record waits, an unexpected error) is left to its own
        job, untouched. A delivery to be retried (5xx, 429, timeout) or a 410 ends the
        batch: while the receiver struggles, each message goes by its own job, and the
        circuit counts them as it does without batches.
        """
        batch = self._claim_batch(self.backend_id.sudo().outbound_batch_size)
        result = self._deliver_once()
        if self.state == "retrying" or not batch:
            return result  # the receiver struggles: each message goes by its own job
        delivered = self._deliver_batch(batch)
        return f"{result} (and {delivered} more in this batch)" if delivered else result

    def _deliver_once(self):
        """Deliver this outbound message once."""
        backend = self.backend_id.sudo()
        if self._subscription_disabled():
            return self._die_subscription_disabled()
        if self.subscription_id.ordered:
            self._wait_for_predecessors()
        wait = backend._circuit_admit()
        if wait is not None:
            # Nothing is dropped or counted as an attempt: the job comes back later.
            raise CircuitHeld(
                f"The delivery circuit of {backend.code} is open.", seconds=wait, ignore_retry=True
            )
        sent = self._send(backend)
        counted = _circuit_counts(sent.answer)
        if counted is not None:
            backend._circuit_record(success=counted)
        return self._record_deliveries([sent])[0]

    def _deliver_batch(self, batch):
        """Deliver ``batch`` after this message; the number of messages it settled.

        First the POSTs, one after the other, writing nothing; then, in one savepoint,
        the settled messages' jobs are marked done and their attempts, states and
        headers written together. Should that fail, each message is written alone, and
        one that fails again is left to its own job.
        """
        backend = self.backend_id.sudo()
        if backend.state == "paused" or backend._circuit_admit(probe=False) is not None:
            return 0
        sent, disabled = batch._send_batch(backend)
        if not sent and not disabled:
            return 0
        try:
            with self.env.cr.savepoint():
                self._settle_batch(sent, disabled)
            return len(sent) + len(disabled)
        except Exception:  # written one by one below; each failure is logged there
            _logger.exception(
                "integration message %s: writing its batch failed, each message is written alone",
                self.id,
            )
        settled = 0
        for one_sent, one_disabled in [([one], self.browse()) for one in sent] + [
            ([], one) for one in disabled
        ]:
            try:
                with self.env.cr.savepoint():
                    self._settle_batch(one_sent, one_disabled)
                settled += 1
            except Exception:  # the message's own job delivers it again later
                _logger.exception(
                    "integration message %s: batched delivery not written, left to its own job",
                    (one_sent[0].message if one_sent else one_disabled).id,
                )
        return settled

    def _send_batch(self, backend):
        """POST these messages one after the other, writing nothing; what was sent and
        the messages of disabled subscriptions.

        The batch's circuit admitted them: a failure is counted at once and ends the
        batch, the successes are counted once, in the order they happened.
        """
        started = time.monotonic()
        sent, disabled, settled = [], self.browse(), set()
        successes = False
        for message in self:
            if time.monotonic() - started > BATCH_TIME_BUDGET:
                break
            try:
                if message._subscription_disabled():
                    disabled |= message
                    continue
                if message.subscription_id.ordered:
                    # An earlier message of its record settled in this batch is no longer
                    # waiting, though its state is written only after the POSTs.
                    message._wait_for_predecessors(settled=settled)
                one = message._send(backend)
            except RetryableJobError:
                continue  # an earlier message of its record waits: its own job waits too
            except Exception:  # any other error: the message's own job runs it alone later
                _logger.exception(
                    "integration message %s: batched delivery failed, left to its own job",
                    message.id,
                )
                continue
            sent.append(one)
            counted = _circuit_counts(one.answer)
            if counted is False:
                if successes:
                    backend._circuit_record(success=True)
                backend._circuit_record(success=False)
                successes = False
            successes = successes or counted is True
            if one.answer.outcome in (delivery.RETRY, delivery.GONE):
                break
            settled.add(message.id)
        if successes:
            backend._circuit_record(success=True)
        return sent, disabled

    def _settle_batch(self, sent, disabled):
        """Write what a batch's deliveries came to; their own jobs are done first (a
        message to retry then queues its next job)."""
        taken = self.browse([one.message.id for one in sent]) | disabled
        taken._take_over_jobs()
        disabled._die_subscription_disabled()
        self._record_deliveries(sent)
        self.env.flush_all()  # within the caller's savepoint: a failure is caught there

    def _subscription_disabled(self):
        subscription = self.subscription_id.with_context(active_test=False)
        return bool(subscription) and not subscription.active

    def _die_subscription_disabled(self):
        """Dead letters, replayable once the subscription is enabled again."""
        for message in self:
            subscription = message.subscription_id.with_context(active_test=False)
            message.write(
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

    def _send(self, backend):
        """POST this message and note its attempt; nothing is written yet."""
        started = time.monotonic()
        attempt = {
            "message_id": self.id,
            "number": self.attempt_count + 1,
            "start_date": fields.Datetime.now(),
            "job_uuid": self.env.context.get("job_uuid"),
        }
        answer, headers = self._post(backend)
        attempt = self._attempt_values(
            dict(attempt, status_code=answer.status, response_excerpt=answer.excerpt or False),
            started,
            "done" if answer.outcome == delivery.DELIVERED else "failed",
            answer.error or None,
        )
        return Sent(self, answer, headers, attempt)

    def _record_deliveries(self, sent):
        """Write what deliveries came to, each message's summary in their order.

        Attempts in one INSERT, the messages' values in one UPDATE per set of values
        (the ORM's flush) and their headers in one more; then the next attempt of a
        message to retry, the subscription of a 410.
        """
        if not sent:
            return []
        self.env["integration.message.attempt"].create([one.attempt for one in sent])
        now = fields.Datetime.now()
        groups = defaultdict(list)
        for one in sent:
            values = {"last_error": one.attempt["error"]}
            if one.answer.outcome == delivery.DELIVERED:
                values.update(state="done", done_date=now, next_attempt_date=False)
            elif one.answer.outcome != delivery.RETRY:
                values.update(state="dead", next_attempt_date=False)
            groups[tuple(sorted(values.items()))].append(one.message.id)
        for values, ids in groups.items():
            self.browse(ids).write(dict(values))
        self._store_headers({one.message.id: one.headers for one in sent if one.headers})
        summaries = []
        for one in sent:
            answer = one.answer
            if answer.outcome == delivery.DELIVERED:
                summaries.append(f"Delivered: HTTP {answer.status}")
                continue
            if answer.outcome == delivery.RETRY:
                summaries.append(one.message._retry_or_die(at_least=answer.retry_after or 0))
                continue
            if answer.outcome == delivery.GONE and one.message.subscription_id:
                one.message.subscription_id._disable_gone(one.message)
            summaries.append(f"Not delivered, not retried: {answer.error}")
        return summaries

    def _store_headers(self, headers):
        """Store the headers each message was sent with ({id: text}) in one statement:
        plain text that no stored field depends on."""
        if not headers:
            return
        self.flush_model(["headers"])
        self.env.cr.execute(
            SQL(
                """UPDATE integration_message m SET headers = v.headers
                     FROM (VALUES %s) AS v(id, headers) WHERE m.id = v.id""",
                SQL(", ").join(SQL("(%s, %s)", id_, text) for id_, text in headers.items()),
            )
        )
        self.browse(headers).invalidate_recordset(["headers"])

    def _post(self, backend):
        """One HTTP delivery with fresh timestamp and signature: its answer, and the
        headers it was sent with as stored (None when nothing was sent)."""
        body = self.payload.encode()
        if not backend.outbound_url:
            return delivery.Answer(
                outcome=delivery.PERMANENT,
                error=self.env._("Backend %(backend)s has no outbound URL.", backend=backend.name),
            ), None
        stored = None
        for fresh_token in (False, True):
            try:
                headers = backend._outbound_headers(self.sender_message_id, int(time.time()), body)
            except delivery.TokenError as exc:
                return delivery.Answer(outcome=exc.outcome, error=str(exc)), stored
            except UserError as exc:
                return delivery.Answer(outcome=delivery.PERMANENT, error=str(exc.args[0])), stored
            stored = json.dumps(backend._redact_headers(headers), indent=1)
            answer = delivery.post(
                backend.outbound_url,
                body,
                headers,
                backend._outbound_timeouts(),
                allow_private=backend.outbound_allow_private,
            )
            if answer.status != 401 or backend.outbound_auth_type != "oauth2" or fresh_token:
                return answer, stored
            # The cached token may have been revoked early: fetch a new one, once.
            delivery.forget_token(backend._oauth2_cache_key())
        return answer, stored

    def _wait_for_predecessors(self, settled=()):
        """Raise (job postponed) while an earlier message of the same record waits;
        those of ``settled`` (ids) were delivered before it in the same batch."""
        earlier = self.search(
            [
                ("subscription_id", "=", self.subscription_id.id),
                ("ordering_key", "=", self.ordering_key),
                ("id", "<", self.id),
                ("id", "not in", list(settled)),
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
