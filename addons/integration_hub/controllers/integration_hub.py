import json
import logging

from psycopg2 import IntegrityError, errorcodes
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import fields, http
from odoo.http import request

from .. import payload as payload_lib
from .. import signatures

_logger = logging.getLogger(__name__)
# Security events go to their own logger so that monitors can follow them alone.
_security_logger = logging.getLogger("odoo.addons.integration_hub.security")

# Only these request headers are stored with a message: never credentials or cookies.
STORED_HEADERS = (
    "content-type",
    "content-length",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "x-correlation-id",
    "x-request-id",
    "traceparent",
)


class WebhookError(Exception):
    """An inbound request refused with ``status`` and a stable JSON ``code``."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def _json(status, body, headers=None):
    return request.make_json_response(body, status=status, headers=headers)


class IntegrationHubController(http.Controller):
    @http.route(
        "/integration/webhook/<string:token>",
        type="http",
        auth="none",
        methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,  # auth="none" routes default to a read-only first try
    )
    def webhook(self, token, **_params):
        """Verify, store and queue one inbound event, then acknowledge it."""
        env = request.env(user=request.env.ref("integration_hub.user_integration_hub").id, su=True)
        endpoint = env["integration.endpoint"]
        try:
            if request.httprequest.method != "POST":
                raise WebhookError(
                    405, "method_not_allowed", "Send events with POST.", {"Allow": "POST"}
                )
            endpoint = self._find_endpoint(env, token)
            status, body = self._receive(endpoint)
        except WebhookError as error:
            if endpoint:
                endpoint._count_request(authenticated=False)
            if error.status in (401, 403, 409):
                _security_logger.warning(
                    "webhook refused: %s %s endpoint=%s remote=%s",
                    error.status,
                    error.code,
                    endpoint.id or "-",
                    request.httprequest.remote_addr,
                )
            return _json(
                error.status, {"code": error.code, "message": error.message}, error.headers
            )
        return _json(status, body)

    def _find_endpoint(self, env, token):
        endpoint = env["integration.endpoint"].search(
            [("token", "=", token), ("backend_id.state", "in", ("active", "paused"))], limit=1
        )
        if not endpoint:
            _security_logger.info(
                "webhook for an unknown token from %s", request.httprequest.remote_addr
            )
            raise WebhookError(404, "unknown_endpoint", "No active endpoint has this URL.")
        return endpoint

    def _receive(self, endpoint):
        httprequest = request.httprequest
        if not endpoint._allows_address(httprequest.remote_addr):
            raise WebhookError(403, "ip_not_allowed", "This address may not call this endpoint.")
        if not endpoint._accepts_content_type(httprequest.headers.get("Content-Type")):
            raise WebhookError(
                415, "unsupported_content_type", f"Send the body as {endpoint.content_types}."
            )
        body = self._read_body(endpoint)
        msg_id, _timestamp = self._authenticate(endpoint, body)
        existing = endpoint.env["integration.message"].search(
            [("endpoint_id", "=", endpoint.id), ("sender_message_id", "=", msg_id)], limit=1
        )
        if existing:
            return self._answer_repeat(existing, body)
        try:
            envelope = payload_lib.parse_envelope(body)
        except payload_lib.PayloadError as error:
            raise WebhookError(400, error.code, str(error)) from error
        limit = endpoint.rate_limit_per_minute
        if endpoint._count_request(authenticated=True) > limit > 0:
            raise WebhookError(
                429, "rate_limited", f"Over {limit} requests a minute.", {"Retry-After": "60"}
            )
        event_type = endpoint.event_type_ids.filtered(lambda t: t.code == envelope["type"])
        if event_type:
            errors = event_type._validation_errors(envelope["data"])
            if errors:
                raise WebhookError(400, "invalid_data", "; ".join(errors[:10]))
        values = {
            "direction": "in",
            "backend_id": endpoint.backend_id.id,
            "endpoint_id": endpoint.id,
            "event_type": envelope["type"],
            "event_type_id": event_type.id,
            "sender_message_id": msg_id,
            "correlation_id": httprequest.headers.get("X-Correlation-ID") or msg_id,
            "payload": body.decode(),
            "payload_sha256": payload_lib.sha256(body),
            "headers": json.dumps(
                {
                    name: httprequest.headers[name]
                    for name in STORED_HEADERS
                    if name in httprequest.headers
                }
            ),
            "state": "received" if event_type else "ignored",
        }
        try:
            with endpoint.env.cr.savepoint():
                message = endpoint.env["integration.message"].create(values)
        except IntegrityError as error:
            if error.pgcode != errorcodes.UNIQUE_VIOLATION:
                raise
            # A concurrent request with the same webhook-id won the race: answer as a repeat.
            return self._answer_concurrent_repeat(endpoint, msg_id, values["payload_sha256"])
        if event_type:
            message._enqueue()
        return 202, {"id": message.id, "status": message.state}

    def _read_body(self, endpoint):
        limit = endpoint.max_body_bytes
        httprequest = request.httprequest
        if httprequest.content_length is not None and httprequest.content_length > limit:
            raise WebhookError(413, "payload_too_large", f"The body exceeds {limit} bytes.")
        # Bounds the read itself too, for bodies sent without a Content-Length.
        httprequest.max_content_length = limit
        try:
            return httprequest.get_data()
        except RequestEntityTooLarge as error:
            raise WebhookError(
                413, "payload_too_large", f"The body exceeds {limit} bytes."
            ) from error

    def _authenticate(self, endpoint, body):
        headers = request.httprequest.headers
        msg_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp")
        signature = headers.get("webhook-signature")
        if not (msg_id and timestamp and signature):
            raise WebhookError(
                401,
                "missing_signature",
                "webhook-id, webhook-timestamp and webhook-signature headers are required.",
            )
        if len(msg_id) > 255:
            raise WebhookError(
                400, "invalid_webhook_id", "webhook-id is longer than 255 characters."
            )
        try:
            signatures.verify(endpoint._verification_keys(), msg_id, timestamp, body, signature)
        except signatures.SignatureError as error:
            raise WebhookError(401, "invalid_signature", str(error)) from error
        try:
            value = signatures.check_timestamp(timestamp, endpoint.timestamp_tolerance)
        except ValueError as error:
            code = "future_timestamp" if "ahead" in str(error) else "stale_timestamp"
            raise WebhookError(400, code, str(error)) from error
        return msg_id, value

    def _answer_repeat(self, message, body):
        if message.payload_sha256 != payload_lib.sha256(body):
            _security_logger.warning(
                "webhook-id %s reused with a different body on endpoint %s (message %s)",
                message.sender_message_id,
                message.endpoint_id.id,
                message.id,
            )
            raise WebhookError(
                409, "webhook_id_conflict", "This webhook-id was already used for another body."
            )
        message.env.cr.execute(
            "UPDATE integration_message SET duplicate_count = COALESCE(duplicate_count, 0) + 1 "
            "WHERE id = %s",
            (message.id,),
        )
        return 200, {"id": message.id, "status": "duplicate"}

    def _answer_concurrent_repeat(self, endpoint, msg_id, sha256):
        # The winner committed after this transaction's snapshot: read it afresh.
        with endpoint.env.registry.cursor() as cr:
            cr.execute(
                "SELECT id, payload_sha256 FROM integration_message "
                "WHERE endpoint_id = %s AND sender_message_id = %s",
                (endpoint.id, msg_id),
            )
            message_id, stored_sha256 = cr.fetchone()
        if stored_sha256 != sha256:
            raise WebhookError(
                409, "webhook_id_conflict", "This webhook-id was already used for another body."
            )
        return 200, {"id": message_id, "status": "duplicate"}

    @http.route(
        "/integration/health", type="http", auth="none", methods=["GET"], save_session=False
    )
    def health(self):
        """Liveness and backlog summary for monitors."""
        cr = request.env.cr
        cr.execute("SELECT state, count(*) FROM integration_message GROUP BY state")
        backlog = dict(cr.fetchall())
        cr.execute(
            "SELECT min(create_date) FROM integration_message WHERE state IN ('queued', 'retrying')"
        )
        oldest = cr.fetchone()[0]
        oldest_age = (fields.Datetime.now() - oldest).total_seconds() if oldest else 0
        return _json(
            200,
            {
                "status": "ok",
                "database": "ok",
                "backlog": backlog,
                "oldest_queued_age_seconds": int(oldest_age),
            },
        )
