import hmac
import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import fields, http
from odoo.http import request
from odoo.tools import config

from .. import payload as payload_lib
from .. import signatures
from ..models.integration_event_type import validation_errors

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


METRICS_TOKEN_OPTION = "integration_hub_metrics_token"


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
        endpoints = request.env["integration.endpoint"].sudo()
        env = request.env(user=endpoints._webhook_uid(), su=True)
        endpoints = endpoints.with_env(env)
        profile = None
        try:
            if request.httprequest.method != "POST":
                raise WebhookError(
                    405, "method_not_allowed", "Send events with POST.", {"Allow": "POST"}
                )
            endpoint_id = endpoints._live_endpoint_ids().get(token)
            if not endpoint_id:
                _security_logger.info(
                    "webhook for an unknown token from %s", request.httprequest.remote_addr
                )
                raise WebhookError(404, "unknown_endpoint", "No active endpoint has this URL.")
            profile = endpoints._webhook_profile(endpoint_id)
            status, body = self._receive(env, profile)
        except WebhookError as error:
            if profile:
                endpoints.browse(profile.endpoint_id)._count_rejected()
            if error.status in (401, 403, 409):
                _security_logger.warning(
                    "webhook refused: %s %s endpoint=%s remote=%s",
                    error.status,
                    error.code,
                    profile.endpoint_id if profile else "-",
                    request.httprequest.remote_addr,
                )
            return _json(
                error.status, {"code": error.code, "message": error.message}, error.headers
            )
        return _json(status, body)

    def _receive(self, env, profile):
        httprequest = request.httprequest
        if not profile.allows_address(httprequest.remote_addr):
            raise WebhookError(403, "ip_not_allowed", "This address may not call this endpoint.")
        if not profile.accepts_content_type(httprequest.headers.get("Content-Type")):
            raise WebhookError(
                415,
                "unsupported_content_type",
                f"Send the body as {', '.join(sorted(profile.content_types))}.",
            )
        body = self._read_body(profile.max_body_bytes)
        msg_id = self._authenticate(profile, body)
        try:
            envelope = payload_lib.parse_envelope(body)
        except payload_lib.PayloadError as error:
            raise WebhookError(400, error.code, str(error)) from error
        limit = profile.rate_limit_per_minute
        ids = env["integration.endpoint"].browse(profile.endpoint_id)._admit_request()
        if limit and ids.requests_this_minute > limit:
            raise WebhookError(
                429, "rate_limited", f"Over {limit} requests a minute.", {"Retry-After": "60"}
            )
        event_type_id, validator = profile.event_types.get(envelope["type"], (None, None))
        if validator:
            errors = validation_errors(validator, envelope["data"])
            if errors:
                raise WebhookError(400, "invalid_data", "; ".join(errors[:10]))
        event_type = bool(event_type_id)
        headers = httprequest.headers
        values = {
            "id": ids.message_id,
            "job_id": ids.job_id if event_type else None,
            "job_state": "pending" if event_type else None,
            "direction": "in",
            "backend_id": profile.backend_id,
            "endpoint_id": profile.endpoint_id,
            "company_id": profile.company_id,
            "event_type": envelope["type"],
            "event_type_id": event_type_id,
            "sender_message_id": msg_id,
            "correlation_id": (headers.get("X-Correlation-ID") or msg_id)[:255],
            "payload": body.decode(),
            "payload_sha256": payload_lib.sha256(body),
            "headers": json.dumps({h: headers[h][:1024] for h in STORED_HEADERS if h in headers}),
            "state": "queued" if event_type else "ignored",
            "attempt_count": 0,
            "duplicate_count": 0,
        }
        # The job's company is the message's: set it rather than read it from the user.
        messages = env["integration.message"].with_context(allowed_company_ids=[profile.company_id])
        if not messages._store_inbound(values, channel=event_type_id and profile.channel):
            return self._answer_repeat(env, profile, msg_id, values["payload_sha256"])
        return 202, {"id": ids.message_id, "status": values["state"]}

    def _read_body(self, limit):
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

    def _authenticate(self, profile, body):
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
        keys = profile.usable_keys(fields.Datetime.now())
        try:
            signatures.verify(keys, msg_id, timestamp, body, signature)
        except signatures.SignatureError as error:
            raise WebhookError(401, "invalid_signature", str(error)) from error
        try:
            signatures.check_timestamp(timestamp, profile.timestamp_tolerance)
        except signatures.StaleTimestampError as error:
            raise WebhookError(400, "stale_timestamp", str(error)) from error
        except signatures.FutureTimestampError as error:
            raise WebhookError(400, "future_timestamp", str(error)) from error
        return msg_id

    def _answer_repeat(self, env, profile, msg_id, sha256):
        env.cr.execute(
            """UPDATE integration_message SET duplicate_count = duplicate_count + 1
                WHERE endpoint_id = %s AND sender_message_id = %s AND payload_sha256 = %s
            RETURNING id""",
            (profile.endpoint_id, msg_id, sha256),
        )
        row = env.cr.fetchone()
        if not row:
            _security_logger.warning(
                "webhook-id %s reused with a different body on endpoint %s",
                msg_id,
                profile.endpoint_id,
            )
            raise WebhookError(
                409, "webhook_id_conflict", "This webhook-id was already used for another body."
            )
        return 200, {"id": row[0], "status": "duplicate"}

    @http.route(
        "/integration/health", type="http", auth="none", methods=["GET"], save_session=False
    )
    def health(self):
        """Liveness and backlog summary for monitors."""
        cr = request.env.cr
        cr.execute("SELECT state, count(*) FROM integration_message GROUP BY state")
        backlog = dict(cr.fetchall())
        return _json(
            200,
            {
                "status": "ok",
                "database": "ok",
                "backlog": backlog,
                "oldest_queued_age_seconds": request.env[
                    "integration.message"
                ]._oldest_pending_age(),
            },
        )

    @http.route(
        "/integration/metrics", type="http", auth="none", methods=["GET"], save_session=False
    )
    def metrics(self):
        """Prometheus metrics, for a bearer token set in the server configuration."""
        expected = config.get(METRICS_TOKEN_OPTION) or ""
        given = request.httprequest.headers.get("Authorization", "").removeprefix("Bearer ")
        if not expected:
            return _json(
                404,
                {"code": "metrics_disabled", "message": f"Set {METRICS_TOKEN_OPTION} to enable."},
            )
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _json(401, {"code": "invalid_token", "message": "Send Authorization: Bearer."})
        body = request.env["integration.message"].sudo()._prometheus_metrics()
        return request.make_response(
            body, headers=[("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]
        )
