import hmac
import logging

from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge

from odoo import http
from odoo.http import request
from odoo.tools import config

from .. import payload as payload_lib
from ..exceptions import IntakeError
from .json_dispatcher import ROUTING_TYPE, DatabaseUnavailable, database_ready

# Security events go to their own logger so that monitors can follow them alone.
_security_logger = logging.getLogger("odoo.addons.integration_hub.security")

METRICS_TOKEN_OPTION = "integration_hub_metrics_token"


def _only_get():
    # Every method is routed here so that a wrong one gets a JSON 405, not an HTML page.
    if request.httprequest.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(valid_methods=["GET"])


def _json(status, body, headers=None):
    return request.make_json_response(body, status=status, headers=headers)


def intake_env():
    """The environment inbound requests run in: the hub's technical user, elevated."""
    endpoints = request.env["integration.endpoint"].sudo()
    return request.env(user=endpoints._webhook_uid(), su=True)


def endpoint_profile(env, token):
    """The cached profile of the live endpoint of URL ``token``, else a 404 IntakeError."""
    endpoints = env["integration.endpoint"]
    endpoint_id = endpoints._live_endpoint_ids().get(token)
    if not endpoint_id:
        _security_logger.info(
            "inbound request for an unknown token from %s", request.httprequest.remote_addr
        )
        raise IntakeError(404, "unknown_endpoint", "No active endpoint has this URL.")
    return endpoints._webhook_profile(endpoint_id)


def check_address(profile):
    if not profile.allows_address(request.httprequest.remote_addr):
        raise IntakeError(403, "ip_not_allowed", "This address may not call this endpoint.")


def read_body(limit):
    """The request body, refused with 413 beyond ``limit`` bytes."""
    httprequest = request.httprequest
    if httprequest.content_length is not None and httprequest.content_length > limit:
        raise IntakeError(413, "payload_too_large", f"The body exceeds {limit} bytes.")
    # Bounds the read itself too, for bodies sent without a Content-Length.
    httprequest.max_content_length = limit
    try:
        return httprequest.get_data()
    except RequestEntityTooLarge as error:
        raise IntakeError(413, "payload_too_large", f"The body exceeds {limit} bytes.") from error


def log_refusal(env, profile, error):
    """Count a refused request on its endpoint; security refusals go to their logger."""
    if profile:
        env["integration.endpoint"].browse(profile.endpoint_id)._count_rejected()
    if error.status in (401, 403, 409):
        _security_logger.warning(
            "inbound request refused: %s %s endpoint=%s remote=%s",
            error.status,
            error.code,
            profile.endpoint_id if profile else "-",
            request.httprequest.remote_addr,
        )


class IntegrationHubController(http.Controller):
    @http.route(
        "/integration/webhook/<string:token>",
        type=ROUTING_TYPE,
        auth="none",
        methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,  # auth="none" routes default to a read-only first try
    )
    def webhook(self, token, **_params):
        """Verify, store and queue one inbound event, then acknowledge it."""
        if not database_ready():
            raise DatabaseUnavailable()
        env = intake_env()
        profile = None
        try:
            if request.httprequest.method != "POST":
                raise IntakeError(
                    405, "method_not_allowed", "Send events with POST.", {"Allow": "POST"}
                )
            profile = endpoint_profile(env, token)
            status, body = self._receive(env, profile)
        except IntakeError as error:
            log_refusal(env, profile, error)
            return _json(
                error.status, {"code": error.code, "message": error.message}, error.headers
            )
        return _json(status, body)

    def _receive(self, env, profile):
        headers = request.httprequest.headers
        check_address(profile)
        if not profile.accepts_content_type(headers.get("Content-Type")):
            raise IntakeError(
                415,
                "unsupported_content_type",
                f"Send the body as {', '.join(sorted(profile.content_types))}.",
            )
        body = read_body(profile.max_body_bytes)
        msg_id = profile.authenticate(headers, body)
        try:
            envelope = payload_lib.parse_envelope(body)
        except payload_lib.PayloadError as error:
            raise IntakeError(400, error.code, str(error)) from error
        return env["integration.endpoint"]._intake(
            profile,
            msg_id,
            envelope,
            payload=body,
            correlation_id=headers.get("X-Correlation-ID"),
            headers=headers,
        )

    @http.route(
        "/integration/health",
        type=ROUTING_TYPE,
        auth="none",
        csrf=False,  # GET only (a JSON 405 otherwise): no state to protect
        save_session=False,
    )
    def health(self):
        """Liveness for load balancers; the backlog detail for monitors.

        Without credentials the answer is only ok (or 503 unavailable) and costs one
        trivial query. With ``Authorization: Bearer <metrics token>`` it adds the
        backlog by state and the age of the oldest pending message.
        """
        _only_get()
        if not database_ready():
            raise DatabaseUnavailable()
        cr = request.env.cr
        cr.execute("SELECT 1")
        if not request.httprequest.headers.get("Authorization"):
            return _json(200, {"status": "ok", "database": "ok"})
        refusal = self._metrics_token_refusal()
        if refusal:
            return refusal
        backlog = request.env["integration.message"]._backlog_counts()
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
        "/integration/metrics",
        type=ROUTING_TYPE,
        auth="none",
        csrf=False,  # GET only (a JSON 405 otherwise): no state to protect
        save_session=False,
    )
    def metrics(self):
        """Prometheus metrics, for a bearer token set in the server configuration."""
        _only_get()
        if not database_ready():
            raise DatabaseUnavailable()
        refusal = self._metrics_token_refusal()
        if refusal:
            return refusal
        body = request.env["integration.message"].sudo()._prometheus_metrics()
        return request.make_response(
            body, headers=[("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]
        )

    def _metrics_token_refusal(self):
        """None when the request carries the metrics token, else the refusal to answer."""
        expected = config.get(METRICS_TOKEN_OPTION) or ""
        given = request.httprequest.headers.get("Authorization", "").removeprefix("Bearer ")
        if not expected:
            return _json(
                404,
                {"code": "metrics_disabled", "message": f"Set {METRICS_TOKEN_OPTION} to enable."},
            )
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _json(401, {"code": "invalid_token", "message": "Send Authorization: Bearer."})
        return None
