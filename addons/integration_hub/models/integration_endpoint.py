import ipaddress
import json
import logging
import secrets as token_generator
from typing import NamedTuple

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .. import headers as headers_lib
from .. import ordering, signatures
from .. import payload as payload_lib
from ..exceptions import IntakeError
from ..side_cursor import side_cursor
from .integration_event_type import validation_errors

# Security events go to their own logger so that monitors can follow them alone.
_security_logger = logging.getLogger("odoo.addons.integration_hub.security")

# Only allow-listed request headers are stored with a message (headers.STORABLE):
# never credentials or cookies, whatever their name.
STORED_HEADERS = tuple(sorted(headers_lib.STORABLE))

WEBHOOK_PATH = "/integration/webhook/"


def _parse_networks(text):
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in (text or "").replace("\n", ",").split(",")
        if part.strip()
    ]


class WebhookTicket(NamedTuple):
    requests_this_minute: int
    message_id: int
    job_id: int


class WebhookProfile(NamedTuple):
    """What the webhook controller needs of an endpoint, cached per worker process."""

    endpoint_id: int
    backend_id: int
    company_id: int
    channel: str
    content_types: frozenset
    networks: tuple
    max_body_bytes: int
    timestamp_tolerance: int
    rate_limit_per_minute: int
    keys: tuple  # ((scheme, key, expire_date or None), ...), decrypted
    # code -> (integration.event.type id, compiled schema validator, ordering key template)
    event_types: dict

    def accepts_content_type(self, content_type):
        return (content_type or "").split(";")[0].strip().lower() in self.content_types

    def allows_address(self, address):
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def usable_keys(self, now):
        return [(scheme, key) for scheme, key, expire in self.keys if not expire or expire > now]

    def has_bearer(self):
        return any(scheme == signatures.SCHEME_BEARER for scheme, _key, _expire in self.keys)

    def check_bearer(self, authorization):
        """True when ``authorization`` carries one of the endpoint's live bearer tokens."""
        return signatures.check_bearer(self.usable_keys(fields.Datetime.now()), authorization)

    def authenticate(self, headers, body):
        """The sender's message id of a request signed as Standard Webhooks require.

        Raises ``IntakeError`` (401 missing or wrong signature, 400 bad id or timestamp).
        """
        msg_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp")
        signature = headers.get("webhook-signature")
        if not (msg_id and timestamp and signature):
            raise IntakeError(
                401,
                "missing_signature",
                "webhook-id, webhook-timestamp and webhook-signature headers are required.",
            )
        if len(msg_id) > 255:
            raise IntakeError(
                400, "invalid_webhook_id", "webhook-id is longer than 255 characters."
            )
        try:
            signatures.verify(
                self.usable_keys(fields.Datetime.now()), msg_id, timestamp, body, signature
            )
        except signatures.SignatureError as error:
            raise IntakeError(401, "invalid_signature", str(error)) from error
        try:
            signatures.check_timestamp(timestamp, self.timestamp_tolerance)
        except signatures.StaleTimestampError as error:
            raise IntakeError(400, "stale_timestamp", str(error)) from error
        except signatures.FutureTimestampError as error:
            raise IntakeError(400, "future_timestamp", str(error)) from error
        return msg_id


class IntegrationEndpoint(models.Model):
    _name = "integration.endpoint"
    _description = "Integration Inbound Endpoint"
    _inherit = ["integration.webhook.config.mixin"]
    _order = "name"

    name = fields.Char(required=True)
    backend_id = fields.Many2one("integration.backend", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    active = fields.Boolean(default=True)
    token = fields.Char(
        string="URL token",
        required=True,
        copy=False,
        default=lambda self: token_generator.token_urlsafe(24),
        help="Last part of the webhook URL. Generated unguessable; change it to revoke the URL.",
    )
    url = fields.Char(string="Webhook URL", compute="_compute_url")
    event_type_ids = fields.Many2many(
        "integration.event.type",
        string="Accepted event types",
        help="Other event types are stored as 'Ignored' and can be replayed once accepted here.",
    )
    secret_ids = fields.One2many("integration.endpoint.secret", "endpoint_id", "Keys")
    timestamp_tolerance = fields.Integer(
        default=300, help="Seconds a webhook-timestamp may differ from our clock."
    )
    max_body_bytes = fields.Integer(default=1024 * 1024, string="Max body (bytes)")
    content_types = fields.Char(
        default="application/json",
        required=True,
        help="Accepted content types, comma-separated.",
    )
    ip_allowlist = fields.Text(
        string="IP allowlist",
        help="Networks in CIDR notation (comma or line separated) allowed to call "
        "this endpoint. Empty: any address.",
    )
    rate_limit_per_minute = fields.Integer(
        default=600, help="Accepted requests per minute; 0 for no limit."
    )
    rejected_count_24h = fields.Integer(
        compute="_compute_request_stats",
        string="Refused requests",
        help="Requests refused in the last 24 hours (bad signature, stale, too large…).",
    )
    request_count_24h = fields.Integer(
        compute="_compute_request_stats",
        string="Authenticated requests",
        help="Correctly signed requests in the last 24 hours.",
    )

    _sql_constraints = [
        ("token_uniq", "unique(token)", "This URL token is already in use."),
        (
            "limits_positive",
            "CHECK(timestamp_tolerance > 0 AND max_body_bytes > 0 AND rate_limit_per_minute >= 0)",
            "Tolerance and body size must be positive; the rate limit cannot be negative.",
        ),
    ]

    def init(self):
        # Request counters live outside the ORM: they are bumped by the webhook
        # controller in short autonomous transactions, shared by every worker.
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS integration_endpoint_stat (
                endpoint_id integer NOT NULL
                    REFERENCES integration_endpoint(id) ON DELETE CASCADE,
                window_start timestamp NOT NULL,
                requests integer NOT NULL DEFAULT 0,
                rejected integer NOT NULL DEFAULT 0,
                PRIMARY KEY (endpoint_id, window_start)
            )"""
        )

    @api.depends("token")
    def _compute_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for endpoint in self:
            endpoint.url = f"{base_url}{WEBHOOK_PATH}{endpoint.token or ''}"

    def _compute_request_stats(self):
        stats = {}
        if self.ids:
            self.env.cr.execute(
                """SELECT endpoint_id, sum(requests), sum(rejected) FROM integration_endpoint_stat
                    WHERE endpoint_id IN %s
                      AND window_start > (now() at time zone 'utc') - interval '24 hours'
                    GROUP BY endpoint_id""",
                (tuple(self.ids),),
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for endpoint in self:
            requests, rejected = stats.get(endpoint.id, (0, 0))
            endpoint.request_count_24h = requests
            endpoint.rejected_count_24h = rejected

    @api.constrains("ip_allowlist")
    def _check_ip_allowlist(self):
        for endpoint in self:
            try:
                _parse_networks(endpoint.ip_allowlist)
            except ValueError as exc:
                raise ValidationError(
                    self.env._("IP allowlist of %(name)s: %(error)s", name=endpoint.name, error=exc)
                ) from exc

    @api.constrains("token")
    def _check_token(self):
        for endpoint in self:
            if (
                len(endpoint.token) < 8
                or not endpoint.token.replace("-", "").replace("_", "").isalnum()
            ):
                raise ValidationError(
                    self.env._("The URL token must hold at least 8 letters, digits, '-' or '_'.")
                )

    @api.model
    @tools.ormcache()
    def _live_endpoint_ids(self):
        """{URL token: endpoint id} of the endpoints that receive webhooks.

        Kept until an endpoint or backend changes; an unknown token costs no query.
        """
        self.env.cr.execute(
            """SELECT e.token, e.id FROM integration_endpoint e
                 JOIN integration_backend b ON b.id = e.backend_id
                WHERE e.active AND b.active AND b.state IN ('active', 'paused')"""
        )
        return dict(self.env.cr.fetchall())

    @api.model
    @tools.ormcache()
    def _webhook_uid(self):
        """The technical user inbound webhooks and their jobs run as."""
        return self.env.ref("integration_hub.user_integration_hub").id

    @tools.ormcache("endpoint_id")
    def _webhook_profile(self, endpoint_id):
        """The endpoint's configuration as plain values, kept until any of it changes."""
        endpoint = self.sudo().browse(endpoint_id)
        return WebhookProfile(
            endpoint_id=endpoint.id,
            backend_id=endpoint.backend_id.id,
            company_id=endpoint.company_id.id,
            channel=endpoint.backend_id.channel_id.complete_name or "root.integration",
            content_types=frozenset(
                part.strip().lower() for part in endpoint.content_types.split(",")
            ),
            networks=tuple(_parse_networks(endpoint.ip_allowlist)),
            max_body_bytes=endpoint.max_body_bytes,
            timestamp_tolerance=endpoint.timestamp_tolerance,
            rate_limit_per_minute=endpoint.rate_limit_per_minute,
            keys=tuple(
                (secret.scheme, secret._decrypted(), secret.expire_date)
                for secret in endpoint.secret_ids
                if secret.active
            ),
            event_types={
                event_type.code: (
                    event_type.id,
                    event_type._validator(),
                    event_type.ordering_key_template,
                )
                for event_type in endpoint.event_type_ids
            },
        )

    def _admit_request(self):
        """Count an authenticated request and draw the ids of its message and job.

        One round trip: (authenticated requests in this minute, message id, job id).
        A refused or duplicate request leaves a gap in the sequences.
        """
        return WebhookTicket(
            *self._count(
                "requests",
                "SELECT s.requests, nextval('integration_message_id_seq'), "
                "nextval('queue_job_id_seq') FROM s",
            )
        )

    def _draw_ids(self, count=1):
        """The ids of ``count`` messages and their jobs, neither counted nor limited:
        for what an administrator uploaded or the hub pulled itself (see ``_intake``)."""
        self.env.cr.execute(
            "SELECT 0, nextval('integration_message_id_seq'), nextval('queue_job_id_seq') "
            "FROM generate_series(1, %s)",
            (count,),
        )
        return [WebhookTicket(*row) for row in self.env.cr.fetchall()]

    def _ticket_stream(self, block=100):
        """Tickets for the items of a page or the rows of a file, drawn ``block`` at a
        time: one round trip per block instead of one per row (the unused ones of the
        last block leave a gap in the sequences, as a refused request does)."""
        while True:
            yield from self._draw_ids(block)

    def _count_rejected(self):
        self._count("rejected", "SELECT s.rejected FROM s")

    def _count(self, column, select):
        """Add one to ``column`` of this minute's window, then run ``select`` on it.

        The counters are shared by every worker and server through PostgreSQL, and
        kept outside the request's transaction (see side_cursor) so that
        concurrent increments wait for each other instead of failing to serialize.
        """
        query = SQL(
            """WITH s AS (
                   INSERT INTO integration_endpoint_stat AS s (endpoint_id, window_start, %(col)s)
                   VALUES (%(id)s, date_trunc('minute', now() at time zone 'utc'), 1)
                   ON CONFLICT (endpoint_id, window_start) DO UPDATE SET %(col)s = s.%(col)s + 1
                   RETURNING s.requests, s.rejected)
               %(select)s""",
            col=SQL.identifier(column),
            id=self.id,
            select=SQL(select),
        )
        with side_cursor(self.env) as cr:
            cr.execute(query.code, query.params)
            return cr.fetchone()

    def _gc_request_stats(self, days=30):
        self.env.cr.execute(
            "DELETE FROM integration_endpoint_stat WHERE window_start < "
            "(now() at time zone 'utc') - make_interval(days => %s)",
            (days,),
        )

    @api.model
    def _intake(
        self,
        profile,
        sender_message_id,
        envelope,
        *,
        payload=None,
        raw_body=None,
        source_format="json",
        correlation_id=None,
        headers=None,
        original=None,
        from_sender=True,
        ticket=None,
    ):
        """Validate, store and queue one canonical event of an authenticated sender.

        The one intake of every inbound format: the webhook passes the body it received
        as ``payload``; an adapter (HL7 v2, FHIR) passes the canonical ``envelope`` it
        translated and the original message as ``raw_body``. Message and job are written
        in one statement; the caller's commit then makes both durable before it answers.
        A pulled feed item or an imported file row comes in here too: ``original`` is
        then what its source may send again (the item, the row) and decides duplicates
        without being stored, and ``from_sender=False`` keeps it out of the endpoint's
        request counts and rate limit, which protect us from senders, not from a page
        the hub asked for or a file an administrator uploaded; its ``ticket`` (ids of
        message and job) may then come from ``_ticket_stream``.
        Returns ``(http status, {"id", "status"})`` with status ``queued``, ``ignored`` or
        ``duplicate``; raises ``IntakeError`` (400 invalid_data, 409 webhook_id_conflict,
        429 rate_limited).
        """
        headers = headers or {}
        stored_headers = headers_lib.allowed(headers)
        self._check_storable_text(
            [
                *stored_headers.items(),
                ("sender message id", sender_message_id),
                ("correlation id", correlation_id),
            ]
        )
        endpoint = self.browse(profile.endpoint_id)
        if from_sender:
            limit = profile.rate_limit_per_minute
            ticket = endpoint._admit_request()
            if limit and ticket.requests_this_minute > limit:
                raise IntakeError(
                    429, "rate_limited", f"Over {limit} requests a minute.", {"Retry-After": "60"}
                )
        else:
            ticket = ticket or endpoint._draw_ids()[0]
        event_type_id, validator, ordering_template = profile.event_types.get(
            envelope["type"], (None, None, None)
        )
        if validator:
            errors = validation_errors(validator, envelope["data"])
            if errors:
                raise IntakeError(400, "invalid_data", "; ".join(errors[:10]))
        if payload is None:
            payload = json.dumps(envelope, ensure_ascii=False)
        elif isinstance(payload, bytes):
            payload = payload.decode()
        # The original is what the sender may send again: its hash decides duplicates.
        if original is None:
            original = raw_body if raw_body is not None else payload
        sha256 = payload_lib.sha256(original.encode() if isinstance(original, str) else original)
        accepted = bool(event_type_id)
        # The job's company is the message's: set it rather than read it from the user.
        messages = self.env["integration.message"].with_context(
            allowed_company_ids=[profile.company_id]
        )
        values = {
            "id": ticket.message_id,
            "job_id": ticket.job_id if accepted else None,
            "job_state": "pending" if accepted else None,
            "direction": "in",
            "backend_id": profile.backend_id,
            "endpoint_id": profile.endpoint_id,
            "company_id": profile.company_id,
            "event_type": envelope["type"],
            "event_type_id": event_type_id,
            "sender_message_id": sender_message_id,
            "correlation_id": (correlation_id or sender_message_id)[:255],
            "reference": messages._reference_of(envelope["data"]),
            "ordering_key": ordering.ordering_key(ordering_template, envelope["data"]),
            "payload": payload,
            "payload_sha256": sha256,
            "source_format": source_format,
            "raw_body": raw_body.decode() if isinstance(raw_body, bytes) else raw_body,
            "headers": json.dumps(stored_headers),
            "state": "queued" if accepted else "ignored",
            "attempt_count": 0,
            "duplicate_count": 0,
        }
        if not messages._store_inbound(values, channel=event_type_id and profile.channel):
            return self._intake_repeat(profile, sender_message_id, sha256)
        return 202, {"id": ticket.message_id, "status": values["state"]}

    @api.model
    def _check_storable_text(self, named_values):
        """Refuse control characters (NUL…) in what the message stores from the request:
        PostgreSQL refuses NUL, and none belongs in an id or a header."""
        for name, value in named_values:
            char = headers_lib.control_character(value or "")
            if char is not None:
                raise IntakeError(
                    400, "invalid_header", f"{name} holds the control character {char!r}."
                )

    @api.model
    def _intake_repeat(self, profile, sender_message_id, sha256):
        """Count a repeated sender id on its message, or refuse it for another body."""
        self.env.cr.execute(
            """UPDATE integration_message SET duplicate_count = duplicate_count + 1
                WHERE endpoint_id = %s AND sender_message_id = %s AND payload_sha256 = %s
            RETURNING id""",
            (profile.endpoint_id, sender_message_id, sha256),
        )
        row = self.env.cr.fetchone()
        if not row:
            _security_logger.warning(
                "webhook-id %s reused with a different body on endpoint %s",
                sender_message_id,
                profile.endpoint_id,
            )
            raise IntakeError(
                409, "webhook_id_conflict", "This webhook-id was already used for another body."
            )
        return 200, {"id": row[0], "status": "duplicate"}

    def action_regenerate_token(self):
        for endpoint in self:
            endpoint.token = token_generator.token_urlsafe(24)
