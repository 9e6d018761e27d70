from odoo import http
from odoo.http import request

from odoo.addons.integration_hub.controllers.integration_hub import (
    check_address,
    endpoint_profile,
    intake_env,
    log_refusal,
    read_body,
)
from odoo.addons.integration_hub.exceptions import IntakeError

from .. import hl7v2

CONTENT_TYPES = frozenset({"x-application/hl7-v2+er7", "application/hl7-v2", "text/plain"})
ACK_CONTENT_TYPE = "x-application/hl7-v2+er7"


class IntegrationHubHl7Controller(http.Controller):
    @http.route(
        "/integration/hl7/<string:token>",
        type="http",
        auth="none",
        methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def hl7(self, token, **_params):
        """Verify, store and queue one HL7 v2 message, then answer its ACK."""
        env = intake_env()
        httprequest = request.httprequest
        profile = None
        sniffed = (hl7v2.DEFAULT_SEPARATORS, "", "")
        try:
            if httprequest.method != "POST":
                raise IntakeError(
                    405, "method_not_allowed", "Send HL7 messages with POST.", {"Allow": "POST"}
                )
            profile = endpoint_profile(env, token)
            check_address(profile)
            content_type = (httprequest.headers.get("Content-Type") or "").split(";")[0]
            if content_type.strip().lower() not in CONTENT_TYPES:
                raise IntakeError(
                    415,
                    "unsupported_content_type",
                    f"Send the message as {', '.join(sorted(CONTENT_TYPES))}.",
                )
            body = read_body(profile.max_body_bytes)
            sniffed = hl7v2.sniff(body)
            self._authenticate(profile, body)
            try:
                message = hl7v2.parse(body)
            except hl7v2.HL7Error as error:
                log_refusal(env, profile, IntakeError(400, "invalid_hl7", error.message))
                return self._answer(400, error.ack_code, sniffed, error=error)
            endpoints = env["integration.endpoint"]
            endpoints._hl7_check_sender(profile, message.header, httprequest.remote_addr)
            try:
                endpoints._hl7_intake(profile, message, body)
            except hl7v2.HL7Error as error:  # a field the mapping cannot use
                log_refusal(env, profile, IntakeError(400, "invalid_hl7", error.message))
                return self._answer(400, error.ack_code, sniffed, message=message, error=error)
        except IntakeError as error:
            log_refusal(env, profile, error)
            hl7_error = hl7v2.intake_error(error.status, error.code, error.message)
            return self._answer(
                error.status, hl7_error.ack_code, sniffed, error=hl7_error, headers=error.headers
            )
        return self._answer(200, "AA", sniffed, message=message)

    def _authenticate(self, profile, body):
        """A bearer token when the endpoint has one and the sender sends one, else the
        Standard Webhooks signature over the raw body."""
        authorization = request.httprequest.headers.get("Authorization")
        if profile.has_bearer() and authorization:
            if not profile.check_bearer(authorization):
                raise IntakeError(401, "invalid_token", "The bearer token is not valid.")
            return
        profile.authenticate(request.httprequest.headers, body)

    def _answer(self, status, code, sniffed, *, message=None, error=None, headers=None):
        separators, control_id, charset = sniffed
        header = message.header if message else None
        ack = hl7v2.build_ack(
            code,
            header,
            separators=message.separators if message else separators,
            control_id=control_id,
            text=error.message if error else "",
            error=error,
        )
        charset = header.charset if header else charset
        content_type = ACK_CONTENT_TYPE
        if hl7v2.CHARSETS.get(charset, "utf-8") == "iso-8859-1":
            content_type += "; charset=iso-8859-1"
        return request.make_response(
            hl7v2.encode(ack, charset),
            headers=[("Content-Type", content_type), *(headers or {}).items()],
            status=status,
        )
