import ipaddress
import secrets as token_generator
from typing import NamedTuple

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..side_cursor import side_cursor

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
    event_types: dict  # code -> (integration.event.type id, compiled schema validator)

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
                event_type.code: (event_type.id, event_type._validator())
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

    def action_regenerate_token(self):
        for endpoint in self:
            endpoint.token = token_generator.token_urlsafe(24)
