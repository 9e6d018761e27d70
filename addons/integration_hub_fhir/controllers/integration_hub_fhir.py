import json
from datetime import UTC, datetime

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

from ..mapping import IGNORED_PREFIX, BundleIndex, MappingError, bundle_resources, map_resource
from ..validation import (
    FhirError,
    Issue,
    error,
    informational_outcome,
    operation_outcome,
    parse_body,
    validate,
)

FHIR_CONTENT_TYPES = frozenset({"application/fhir+json", "application/json"})
# Bundles stored all or nothing; a batch takes each entry on its own.
ALL_OR_NOTHING = frozenset({"transaction", "collection", "history", "subscription-notification"})
# HTTP status of an IntakeError -> FHIR issue type
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "security",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
}
REASONS = {200: "200 OK", 202: "202 Accepted"}


def _answer(status, body, headers=None):
    response = request.make_json_response(body, status=status, headers=headers)
    response.headers["Content-Type"] = "application/fhir+json; charset=utf-8"
    return response


def _outcome_of(exc, expression=None):
    """(status, OperationOutcome) of a refused request or entry: one table for all."""
    if isinstance(exc, FhirError):
        issues = exc.issues
        if expression:
            for issue in issues:
                issue.expression = (
                    f"{expression}.{issue.expression}" if issue.expression else expression
                )
        return exc.status, operation_outcome(issues)
    issue = Issue(ISSUE_TYPES.get(exc.status, "processing"), exc.code, exc.message, expression)
    return exc.status, operation_outcome([issue])


def _raw(resource):
    return json.dumps(resource, default=float, separators=(",", ":"))


class IntegrationHubFhirController(http.Controller):
    @http.route(
        [
            "/integration/fhir/<string:token>",
            "/integration/fhir/<string:token>/<string:resource_type>/<string:resource_id>",
        ],
        type="http",
        auth="none",
        methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def fhir(self, token, resource_type=None, resource_id=None, **_params):
        """Verify, map, store and queue FHIR resources, then answer as FHIR does."""
        env = intake_env()
        profile = None
        try:
            allowed = "PUT" if resource_type else "POST"
            if request.httprequest.method != allowed:
                raise IntakeError(
                    405,
                    "method_not_allowed",
                    f"Send resources here with {allowed}.",
                    {"Allow": allowed},
                )
            profile = endpoint_profile(env, token)
            status, body = self._receive(env, profile, resource_type, resource_id)
        except (FhirError, IntakeError) as exc:
            log_refusal(env, profile, exc)
            status, outcome = _outcome_of(exc)
            return _answer(status, outcome, getattr(exc, "headers", None))
        except _Refused as exc:
            log_refusal(env, profile, exc)
            return _answer(exc.status, exc.outcome, exc.headers)
        return _answer(status, body)

    # -- reading the request ---------------------------------------------------------
    def _receive(self, env, profile, resource_type, resource_id):
        httprequest = request.httprequest
        check_address(profile)
        content_type = (httprequest.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type.lower() not in FHIR_CONTENT_TYPES:
            raise IntakeError(
                415, "unsupported_content_type", "Send application/fhir+json (or application/json)."
            )
        body = read_body(profile.max_body_bytes)
        sender_id = self._authenticate(profile, body)
        resource = parse_body(body)
        validate(resource)
        config, accepted = env["integration.endpoint"]._fhir_profile(profile.endpoint_id)
        if resource_type:
            self._check_update_target(resource, resource_type, resource_id)
        correlation_id = (
            httprequest.headers.get("X-Correlation-ID") or sender_id or resource.get("id") or ""
        )[:255] or None
        context = _Intake(env, profile, config, accepted, correlation_id)
        if resource["resourceType"] != "Bundle":
            status, message = context.take(resource, _raw(resource))
            return status, informational_outcome(
                f"{resource['resourceType']} stored as message {message['id']}: "
                f"{message['status']}",
                message["id"],
                message["status"],
            )
        return self._receive_bundle(env, context, resource)

    def _authenticate(self, profile, body):
        """The sender's webhook-id (signature), or None (bearer token)."""
        headers = request.httprequest.headers
        authorization = headers.get("Authorization")
        if authorization:
            if not profile.check_bearer(authorization):
                raise IntakeError(401, "invalid_token", "The bearer token is not valid.")
            return None
        return profile.authenticate(headers, body)

    @staticmethod
    def _check_update_target(resource, resource_type, resource_id):
        if resource["resourceType"] != resource_type:
            raise error(
                400,
                "invalid",
                "resource_type_mismatch",
                f"the URL names a {resource_type[:64]}, the body a {resource['resourceType']}",
                f"{resource['resourceType']}.resourceType",
            )
        if resource.get("id") != resource_id:
            raise error(
                400,
                "invalid",
                "resource_id_mismatch",
                "the resource id differs from the id in the URL",
                f"{resource_type}.id",
            )

    # -- Bundles ---------------------------------------------------------------------
    def _receive_bundle(self, env, context, bundle):
        kind = bundle.get("type")
        if kind not in ALL_OR_NOTHING and kind != "batch":
            raise error(
                400,
                "not-supported",
                "unsupported_bundle_type",
                f"a {kind} Bundle is not taken: send a transaction, batch, collection, "
                "history or subscription-notification",
                "Bundle.type",
            )
        context.index = BundleIndex(bundle)
        entries = []
        if kind == "batch":
            for n, resource, method in bundle_resources(bundle):
                with env.cr.savepoint(flush=False) as savepoint:
                    try:
                        entries.append(self._entry(context, n, resource, method))
                    except (FhirError, IntakeError) as exc:
                        savepoint.rollback()
                        status, outcome = _outcome_of(exc, f"Bundle.entry[{n}]")
                        entries.append({"response": {"status": str(status), "outcome": outcome}})
            return 200, {"resourceType": "Bundle", "type": "batch-response", "entry": entries}
        with env.cr.savepoint(flush=False):
            for n, resource, method in bundle_resources(bundle):
                try:
                    entries.append(self._entry(context, n, resource, method))
                except (FhirError, IntakeError) as exc:
                    # One refused entry refuses the whole Bundle: nothing is stored.
                    status, outcome = _outcome_of(exc, f"Bundle.entry[{n}]")
                    raise _Refused(status, outcome, getattr(exc, "headers", None)) from exc
        if kind == "transaction":
            return 200, {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
        return 202, {
            "resourceType": "OperationOutcome",
            "issue": [entry["response"]["outcome"]["issue"][0] for entry in entries],
        }

    def _entry(self, context, n, resource, method):
        if resource is None:
            raise error(400, "required", "invalid_data", "the entry holds no resource", "resource")
        if method not in (None, "PUT", "POST"):
            raise error(
                422,
                "not-supported",
                "unsupported_method",
                f"{method} entries are not taken: send resources with PUT or POST",
                "request.method",
            )
        status, message = context.take(resource, _raw(resource))
        version = (resource.get("meta") or {}).get("versionId")
        response = {
            "status": REASONS.get(status, str(status)),
            "outcome": informational_outcome(
                f"entry {n}: {resource['resourceType']} stored as message {message['id']}: "
                f"{message['status']}",
                message["id"],
                message["status"],
            ),
        }
        if resource.get("id"):
            response["location"] = f"{resource['resourceType']}/{resource['id']}" + (
                f"/_history/{version}" if version else ""
            )
        return {"response": response}


class _Refused(Exception):
    """An all-or-nothing Bundle refused because of one entry (its answer is ready)."""

    def __init__(self, status, outcome, headers=None):
        super().__init__(status)
        self.status = status
        self.outcome = outcome
        self.headers = headers or {}
        details = outcome["issue"][0].get("details") or {}
        self.code = (details.get("coding") or [{}])[0].get("code", "invalid")


class _Intake:
    """Maps one resource and hands its canonical event to the core intake."""

    def __init__(self, env, profile, config, accepted, correlation_id):
        self.env = env
        self.profile = profile
        self.config = config
        self.accepted = accepted
        self.correlation_id = correlation_id
        self.index = None

    def _price_of(self, code):
        return self.env["integration.endpoint"]._fhir_unit_price(self.profile.backend_id, code)

    def take(self, resource, raw_body):
        """(HTTP status, {"id", "status"}) of one stored resource."""
        resource_type = resource["resourceType"]
        if resource_type not in self.accepted:
            raise MappingError(
                f"this endpoint does not take {resource_type} resources",
                resource_type,
                code="unsupported_resource_type",
            )
        event = map_resource(resource, self.config, self.index, self._price_of)
        envelope = {
            "type": event.event_type,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": event.data,
        }
        if event.event_type.startswith(IGNORED_PREFIX):
            envelope["data"] = {"id": resource.get("id")}
        return self.env["integration.endpoint"]._intake(
            self.profile,
            event.dedupe_key,
            envelope,
            raw_body=raw_body,
            source_format="fhir_r4",
            correlation_id=self.correlation_id,
            headers=request.httprequest.headers,
        )
