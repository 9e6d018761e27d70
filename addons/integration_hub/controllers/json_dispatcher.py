"""The ``integration_json`` route type: every answer of the hub's machine-facing routes
is JSON, whatever goes wrong and wherever it goes wrong.

Odoo turns an error of a ``type="http"`` route into an HTML page, and a request it
cannot give a database (PostgreSQL down or restarting) into its database-less routing,
which knows nothing of the hub and answers an HTML 404. With the hub among the
``server_wide_modules`` its routes are in that database-less routing too, and this
dispatcher answers there and on every error:

- the database unreachable (no database for the request, or a connection error while
  serving it) → ``503 {"code": "unavailable"}`` with ``Retry-After``;
- a werkzeug HTTP error (405, 404…) → that status with a JSON ``code``;
- anything else → ``500 {"code": "internal_error", "reference"}``, the reference
  logged with the traceback; the caller never sees the traceback.

PostgreSQL concurrency errors are not caught by the routes: Odoo retries the whole
request on them as for any route, and only an error left after its last try ends here.
"""

import json
import logging
import uuid

import psycopg2
from werkzeug.exceptions import HTTPException

from odoo.http import HttpDispatcher, Response, request

from ..access_log import mask_tokens

_logger = logging.getLogger(__name__)

ROUTING_TYPE = "integration_json"
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(Exception):
    """The request has no usable database (PostgreSQL unreachable or restarting)."""

    # Odoo logs a request's error with its traceback unless it names a level: this one
    # is expected during an outage, and handle_error below logs it once, shortly.
    loglevel = logging.DEBUG


def _response(status, body, headers=None):
    # Built without request.make_json_response: it may run with no database at all.
    return Response(
        json.dumps(body),
        status=status,
        headers=[("Content-Type", "application/json; charset=utf-8"), *(headers or {}).items()],
    )


def unavailable_response(body=None):
    """503 JSON with Retry-After: the database is away, try again shortly."""
    return _response(
        503,
        body
        or {
            "code": "unavailable",
            "message": "The database is unavailable; retry later.",
        },
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def is_database_error(exc):
    """True for an error that means the database could not be reached or used."""
    # A concurrency error left after Odoo's retries (an OperationalError) is also
    # "try again".
    return isinstance(
        exc, DatabaseUnavailable | psycopg2.OperationalError | psycopg2.InterfaceError
    )


def database_ready():
    """Whether the request has a database it can use (False in Odoo's no-database mode)."""
    return bool(request.db) and request.env is not None


class IntegrationJsonDispatcher(HttpDispatcher):
    """Dispatches like ``type="http"``; answers every error as JSON."""

    routing_type = ROUTING_TYPE

    def handle_error(self, exc):
        path = self.request.httprequest.path
        if is_database_error(exc):
            _logger.warning("%s: database unavailable (%s)", mask_tokens(path), type(exc).__name__)
            if path.rstrip("/") == "/integration/health":
                return unavailable_response(
                    {"status": "unavailable", "code": "unavailable", "database": "unreachable"}
                )
            return unavailable_response()
        if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
            code = (exc.name or "error").lower().replace(" ", "_")
            headers = {}
            if exc.code == 405 and getattr(exc, "valid_methods", None):
                headers["Allow"] = ", ".join(exc.valid_methods)
            return _response(exc.code, {"code": code, "message": exc.name}, headers)
        reference = uuid.uuid4().hex[:16]
        _logger.error(
            "%s: internal error, reference %s", mask_tokens(path), reference, exc_info=exc
        )
        return _response(
            500,
            {
                "code": "internal_error",
                "message": "The request failed on our side; quote the reference.",
                "reference": reference,
            },
        )
