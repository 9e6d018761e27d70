import ipaddress
import logging
import secrets as token_generator

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/integration/webhook/"


def _parse_networks(text):
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in (text or "").replace("\n", ",").split(",")
        if part.strip()
    ]


class IntegrationEndpoint(models.Model):
    _name = "integration.endpoint"
    _description = "Integration Inbound Endpoint"
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
    url = fields.Char(compute="_compute_url")
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
    rejected_count_24h = fields.Integer(compute="_compute_request_stats", string="Rejected (24 h)")
    request_count_24h = fields.Integer(
        compute="_compute_request_stats", string="Authenticated requests (24 h)"
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

    def _accepts_content_type(self, content_type):
        mimetype = (content_type or "").split(";")[0].strip().lower()
        accepted = {part.strip().lower() for part in self.content_types.split(",")}
        return mimetype in accepted

    def _allows_address(self, address):
        networks = _parse_networks(self.ip_allowlist)
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    def _verification_keys(self):
        """``[(scheme, key)]`` of the endpoint's usable keys, decrypted."""
        now = fields.Datetime.now()
        return [
            (secret.scheme, secret._decrypted())
            for secret in self.sudo().secret_ids
            if secret.active and (not secret.expire_date or secret.expire_date > now)
        ]

    def _count_request(self, authenticated):
        """Count a request in this minute's window; return the window's authenticated requests.

        Runs in its own READ COMMITTED transaction so that concurrent requests on
        every worker and server add up instead of failing to serialize.
        """
        column = SQL.identifier("requests" if authenticated else "rejected")
        with self.env.registry.cursor() as cr:
            if not self.env.registry.in_test_mode():  # a test cursor is a savepoint
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute(
                SQL(
                    """INSERT INTO integration_endpoint_stat AS s
                           (endpoint_id, window_start, %(col)s)
                       VALUES (%(id)s, date_trunc('minute', now() at time zone 'utc'), 1)
                       ON CONFLICT (endpoint_id, window_start)
                       DO UPDATE SET %(col)s = s.%(col)s + 1
                       RETURNING s.requests""",
                    col=column,
                    id=self.id,
                )
            )
            return cr.fetchone()[0]

    def _gc_request_stats(self, days=30):
        self.env.cr.execute(
            "DELETE FROM integration_endpoint_stat WHERE window_start < "
            "(now() at time zone 'utc') - make_interval(days => %s)",
            (days,),
        )

    def action_regenerate_token(self):
        for endpoint in self:
            endpoint.token = token_generator.token_urlsafe(24)
