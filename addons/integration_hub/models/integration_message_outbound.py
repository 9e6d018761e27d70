import json
import time

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from .. import delivery

# An ordered message whose predecessor waits long looks again at most this often.
ORDER_RECHECK_MAX = 3600
ORDER_RECHECK_MIN = 5


class IntegrationMessage(models.Model):
    _inherit = "integration.message"

    subscription_id = fields.Many2one(
        "integration.subscription", readonly=True, index="btree_not_null", ondelete="set null"
    )
    ordering_key = fields.Char(
        readonly=True,
        index="btree_not_null",
        help="Outbound: the record the event is about; ordered subscriptions deliver "
        "the messages of one record in order.",
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
        """Deliver an outbound message once (called by its job)."""
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
            raise RetryableJobError(
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
