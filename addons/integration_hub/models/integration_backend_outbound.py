import base64
import hashlib
import logging
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from .. import crypto, delivery, signatures
from .. import headers as headers_lib
from ..retry import parse_schedule
from ..side_cursor import side_cursor

_logger = logging.getLogger(__name__)

# Like Standard Webhooks': at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.
OUTBOUND_SCHEDULE = "5, 300, 1800, 7200, 18000, 36000, 36000"
# Write-only secrets of the outbound side: field -> what it must look like.
OUTBOUND_SECRETS = ("outbound_secret", "outbound_signing_key", "outbound_credential")
CIRCUIT_STATES = [("closed", "Closed"), ("open", "Open"), ("half_open", "Half-open")]


class IntegrationBackend(models.Model):
    _inherit = "integration.backend"

    outbound_allow_private = fields.Boolean(
        string="Allow private network targets",
        help="Deliver to private, loopback or link-local addresses. Off by default: a URL "
        "pointing inside the network (or at a cloud metadata service) is refused.",
    )
    outbound_connect_timeout = fields.Float(string="Connect timeout (s)", default=5.0)
    outbound_read_timeout = fields.Float(string="Read timeout (s)", default=15.0)
    outbound_batch_size = fields.Integer(
        string="Deliveries per job",
        default=50,
        help="A delivery job also delivers up to this many ready messages of the backend "
        "over the same connection (each with its own attempt, state and signature). "
        "1 delivers one message per job.",
    )
    outbound_max_attempts = fields.Integer(
        default=8, help="Delivery attempts before an outbound message is dead."
    )
    outbound_backoff_schedule = fields.Char(
        default=OUTBOUND_SCHEDULE,
        required=True,
        help="Seconds to wait after each failed delivery, comma-separated; the last delay "
        "repeats. A longer Retry-After from the receiver wins.",
    )
    outbound_secret = fields.Char(
        compute="_compute_outbound_secrets",
        inverse="_inverse_outbound_secrets",
        string="Signing secret (v1)",
        help="Write-only whsec_ secret shared with the receiver: every delivery is signed "
        "with HMAC-SHA256.",
    )
    outbound_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    outbound_secret_hint = fields.Char(readonly=True, copy=False)
    outbound_signing_key = fields.Char(
        compute="_compute_outbound_secrets",
        inverse="_inverse_outbound_secrets",
        string="Ed25519 private key (v1a)",
        help="Write-only whsk_ key; deliveries then also carry a v1a signature. Use "
        "'Generate Ed25519 key' and give the receiver the public key.",
    )
    outbound_signing_key_encrypted = fields.Char(groups="base.group_system", copy=False)
    outbound_signing_key_hint = fields.Char(readonly=True, copy=False)
    outbound_public_key = fields.Char(
        string="Ed25519 public key", readonly=True, copy=False, help="For the receiver."
    )
    outbound_username = fields.Char(
        string="User / client id", help="Basic authentication user or OAuth2 client id."
    )
    outbound_api_key_header = fields.Char(string="API key header", default="X-API-Key")
    outbound_credential = fields.Char(
        compute="_compute_outbound_secrets",
        inverse="_inverse_outbound_secrets",
        string="Credential",
        help="Write-only: the API key, bearer token, basic password or OAuth2 client secret.",
    )
    outbound_credential_encrypted = fields.Char(groups="base.group_system", copy=False)
    outbound_credential_hint = fields.Char(readonly=True, copy=False)
    oauth2_token_url = fields.Char(string="OAuth2 token URL")
    oauth2_scope = fields.Char(string="OAuth2 scope")
    circuit_failure_threshold = fields.Integer(
        default=5, help="Consecutive failed deliveries that open the circuit."
    )
    circuit_cooldown_seconds = fields.Integer(
        default=60, help="Seconds an open circuit waits before one probe delivery."
    )
    pause_after_failing_hours = fields.Integer(
        default=24,
        help="A backend whose deliveries fail this long without a single success is "
        "paused and its owner told. 0 never pauses.",
    )
    circuit_state = fields.Selection(CIRCUIT_STATES, compute="_compute_circuit")
    circuit_failures = fields.Integer(string="Consecutive failures", compute="_compute_circuit")
    circuit_opened_date = fields.Datetime(string="Circuit opened", compute="_compute_circuit")
    last_delivery_success_date = fields.Datetime(
        string="Last successful delivery", compute="_compute_circuit"
    )
    failing_since = fields.Datetime(compute="_compute_circuit")
    recent_failure_ids = fields.Many2many(
        "integration.message.attempt",
        compute="_compute_recent_failures",
        string="Last failed deliveries",
    )
    subscription_ids = fields.One2many("integration.subscription", "backend_id")

    _sql_constraints = [
        (
            "outbound_max_attempts_positive",
            "CHECK(outbound_max_attempts > 0)",
            "A backend needs at least one delivery attempt per message.",
        ),
        (
            "outbound_batch_size_positive",
            "CHECK(outbound_batch_size > 0)",
            "A delivery job delivers at least one message.",
        ),
        (
            "circuit_threshold_positive",
            "CHECK(circuit_failure_threshold > 0)",
            "The circuit needs at least one failure to open.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("outbound_allow_private") for vals in vals_list):
            self._check_may_switch_private_targets()
        backends = super().create(vals_list)
        backends.filtered("outbound_allow_private")._log_private_targets_switch()
        return backends

    def write(self, vals):
        switched = self.browse()
        if "outbound_allow_private" in vals:
            switched = self.filtered(
                lambda b: b.outbound_allow_private != bool(vals["outbound_allow_private"])
            )
            if switched:
                switched._check_may_switch_private_targets()
        result = super().write(vals)
        switched._log_private_targets_switch()
        return result

    def _check_may_switch_private_targets(self):
        """Only a system administrator turns the SSRF guard off (or on again)."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        raise AccessError(
            self.env._(
                'Only a system administrator (Settings) may change "Allow private network '
                'targets": it lets deliveries reach addresses inside your network.'
            )
        )

    def _log_private_targets_switch(self):
        for backend in self:
            state = self.env._("on") if backend.outbound_allow_private else self.env._("off")
            _logger.warning(
                "integration backend %s: private network targets switched %s by user %s",
                backend.code,
                "on" if backend.outbound_allow_private else "off",
                self.env.uid,
            )
            backend.sudo().message_post(
                body=self.env._(
                    "Allow private network targets switched %(state)s by %(user)s.",
                    state=state,
                    user=self.env.user.name,
                )
            )

    def _check_manager(self):
        """Actions that send traffic or override the circuit are for Integrations /
        Manager, whatever calls them (a button or RPC), on backends of their companies
        (the circuit is SQL, which no record rule guards)."""
        self.check_access("write")
        if self.env.su or self.env.user.has_group("integration_hub.integration_hub_group_manager"):
            return
        raise AccessError(
            self.env._(
                "Only an Integrations / Manager may do this on backend %(backend)s.",
                backend=", ".join(self.mapped("name")),
            )
        )

    def init(self):
        result = super().init()
        self.env.cr.execute(
            """CREATE TABLE IF NOT EXISTS integration_backend_circuit (
                   backend_id integer PRIMARY KEY
                       REFERENCES integration_backend(id) ON DELETE CASCADE,
                   state varchar NOT NULL DEFAULT 'closed',
                   failures integer NOT NULL DEFAULT 0,
                   opened_at timestamp,
                   probe_started_at timestamp,
                   failing_since timestamp,
                   last_success_at timestamp)"""
        )
        return result

    @api.constrains("outbound_backoff_schedule")
    def _check_outbound_backoff_schedule(self):
        for backend in self:
            try:
                parse_schedule(backend.outbound_backoff_schedule)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "Delivery schedule of %(backend)s: %(error)s",
                        backend=backend.name,
                        error=exc,
                    )
                ) from exc

    @api.constrains("outbound_url", "outbound_allow_private")
    def _check_outbound_url(self):
        for backend in self.filtered("outbound_url"):
            try:
                delivery.check_url(backend.outbound_url, allow_private=True)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "Outbound URL of %(backend)s: %(error)s", backend=backend.name, error=exc
                    )
                ) from exc

    # Secrets -------------------------------------------------------------------------

    def _compute_outbound_secrets(self):
        for name in OUTBOUND_SECRETS:
            self[name] = False

    def _inverse_outbound_secrets(self):
        keys = config.get(crypto.CONFIG_OPTION)
        for backend in self:
            values = {}
            for name in OUTBOUND_SECRETS:
                value = (backend[name] or "").strip()
                if not value:
                    continue
                backend._check_outbound_secret(name, value)
                try:
                    values[f"{name}_encrypted"] = crypto.encrypt(keys, value)
                except crypto.EncryptionKeyError as exc:
                    raise UserError(str(exc)) from exc
                values[f"{name}_hint"] = "…" + value[-4:]
                if name == "outbound_signing_key":
                    values["outbound_public_key"] = _public_key(value)
            if values:
                backend.sudo().write(values)

    def _check_outbound_secret(self, name, value):
        try:
            if name == "outbound_secret":
                if not value.startswith(signatures.HMAC_PREFIX):
                    raise ValueError("a signing secret starts with whsec_")
                signatures.check_key(signatures.SCHEME_HMAC, value)
            elif name == "outbound_signing_key":
                if not value.startswith(signatures.ED25519_PRIVATE_PREFIX):
                    raise ValueError("an Ed25519 private key starts with whsk_")
                _public_key(value)
        except ValueError as exc:
            raise ValidationError(
                self.env._(
                    "%(field)s is not usable: %(error)s",
                    field=self._fields[name].string,
                    error=exc,
                )
            ) from exc

    def _outbound_secret(self, name):
        """The decrypted value of a write-only outbound secret, or None.

        Decrypted once per transaction (a batch signs up to 50 deliveries, and each
        decryption costs as much as a signature): kept by keys and ciphertext in the
        cursor's cache, which ends with the transaction's cursor.
        """
        self.ensure_one()
        token = self.sudo()[f"{name}_encrypted"]
        if not token:
            return None
        keys = config.get(crypto.CONFIG_OPTION)
        decrypted = self.env.cr.cache.setdefault("integration_hub_outbound_secrets", {})
        if (keys, token) not in decrypted:
            decrypted[keys, token] = crypto.decrypt(keys, token)
        return decrypted[keys, token]

    def action_generate_signing_key(self):
        """A new Ed25519 key pair: the private key is stored encrypted, the public shown."""
        self.ensure_one()
        raw = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        key = base64.b64encode(raw).decode()
        self.outbound_signing_key = signatures.ED25519_PRIVATE_PREFIX + key

    # Outgoing requests ---------------------------------------------------------------

    def _outbound_timeouts(self):
        return (self.outbound_connect_timeout or 5.0, self.outbound_read_timeout or 15.0)

    def _outbound_headers(self, msg_id, timestamp, body):
        """Standard Webhooks headers, signed afresh, and the backend's authentication."""
        self.ensure_one()
        secret = self._outbound_secret("outbound_secret")
        private_key = self._outbound_secret("outbound_signing_key")
        if not secret and not private_key:
            raise UserError(
                self.env._(
                    "Backend %(backend)s has no signing secret: set one on its Outbound tab.",
                    backend=self.name,
                )
            )
        signature = " ".join(
            filter(
                None,
                [
                    secret and signatures.sign_hmac(secret, msg_id, timestamp, body),
                    private_key and signatures.sign_ed25519(private_key, msg_id, timestamp, body),
                ],
            )
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "odoo-integration-hub",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }
        headers.update(self._outbound_auth_headers())
        return headers

    def _outbound_auth_headers(self):
        auth = self.outbound_auth_type
        if auth == "none":
            return {}
        credential = self._outbound_secret("outbound_credential")
        if not credential:
            raise UserError(
                self.env._(
                    "Backend %(backend)s authenticates with %(auth)s but has no credential.",
                    backend=self.name,
                    auth=auth,
                )
            )
        if auth == "api_key":
            return {self.outbound_api_key_header or "X-API-Key": credential}
        if auth == "bearer":
            return {"Authorization": f"Bearer {credential}"}
        if auth == "basic":
            basic = base64.b64encode(f"{self.outbound_username or ''}:{credential}".encode())
            return {"Authorization": f"Basic {basic.decode()}"}
        token = delivery.oauth2_token(
            self._oauth2_cache_key(),
            token_url=self.oauth2_token_url,
            client_id=self.outbound_username or "",
            client_secret=credential,
            scope=self.oauth2_scope,
            timeouts=self._outbound_timeouts(),
            allow_private=self.outbound_allow_private,
        )
        return {"Authorization": f"Bearer {token}"}

    def _oauth2_cache_key(self):
        """Changes with any credential, so a new secret never reuses an old token."""
        material = "\n".join(
            [
                str(self.id),
                self.oauth2_token_url or "",
                self.outbound_username or "",
                self.oauth2_scope or "",
                self.sudo().outbound_credential_encrypted or "",
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()

    @staticmethod
    def _redact_headers(headers):
        """Headers as stored on the message: an allow-list of harmless ones, every other
        value (a credential may travel under any name) replaced by a marker."""
        return headers_lib.redacted(headers)

    # Circuit breaker -----------------------------------------------------------------
    # Kept in integration_backend_circuit on the side cursor: every worker sees a
    # change at once, and concurrent deliveries never fail to serialize on it.

    def _circuit_admit(self, probe=True):
        """None when a delivery may go now, else the seconds to wait.

        An open circuit lets one probe through after its cool-down; while that probe
        runs (half-open) the other deliveries wait. Without ``probe`` (the further
        deliveries of a batch) only a closed circuit admits: a batch is never a probe.
        """
        self.ensure_one()
        probe_timeout = int(sum(self._outbound_timeouts())) + 30
        with side_cursor(self.env) as cr:
            if probe:
                cr.execute(
                    """INSERT INTO integration_backend_circuit (backend_id) VALUES (%(id)s)
                       ON CONFLICT (backend_id) DO NOTHING;
                       UPDATE integration_backend_circuit
                          SET state = 'half_open', probe_started_at = now() at time zone 'utc'
                        WHERE backend_id = %(id)s
                          AND ((state = 'open' AND opened_at
                                  <= now() at time zone 'utc' - make_interval(secs => %(cooldown)s))
                            OR (state = 'half_open' AND probe_started_at
                                  <= now() at time zone 'utc' - make_interval(secs => %(probe)s)))
                       RETURNING state""",
                    {
                        "id": self.id,
                        "cooldown": self.circuit_cooldown_seconds,
                        "probe": probe_timeout,
                    },
                )
                if cr.fetchone():
                    return None  # this delivery is the probe
            cr.execute(
                """SELECT state, EXTRACT(EPOCH FROM opened_at
                          + make_interval(secs => %s) - now() at time zone 'utc')
                     FROM integration_backend_circuit WHERE backend_id = %s""",
                (self.circuit_cooldown_seconds, self.id),
            )
            state, remaining = cr.fetchone() or ("closed", None)
        if state == "closed":
            return None
        if state == "open":
            return max(int(remaining or 0), 1)
        return min(max(self.circuit_cooldown_seconds, 1), 10)

    def _circuit_record(self, success):
        """Count a delivery's outcome; returns (state before, state after)."""
        self.ensure_one()
        if success:
            assignments = """state = 'closed', failures = 0, opened_at = NULL,
                             failing_since = NULL, last_success_at = now() at time zone 'utc'"""
        else:
            assignments = """failures = c.failures + 1,
                   failing_since = coalesce(c.failing_since, now() at time zone 'utc'),
                   state = CASE WHEN old.state = 'half_open' OR c.failures + 1 >= %(threshold)s
                                THEN 'open' ELSE c.state END,
                   opened_at = CASE WHEN old.state <> 'open' AND (old.state = 'half_open'
                                         OR c.failures + 1 >= %(threshold)s)
                                    THEN now() at time zone 'utc' ELSE c.opened_at END"""
        with side_cursor(self.env) as cr:
            cr.execute(
                f"""INSERT INTO integration_backend_circuit (backend_id) VALUES (%(id)s)
                    ON CONFLICT (backend_id) DO NOTHING;
                    WITH old AS (SELECT state FROM integration_backend_circuit
                                  WHERE backend_id = %(id)s FOR UPDATE)
                    UPDATE integration_backend_circuit c SET {assignments}
                      FROM old WHERE c.backend_id = %(id)s
                    RETURNING old.state, c.state, c.failing_since""",
                {"id": self.id, "threshold": self.circuit_failure_threshold},
            )
            before, after, failing_since = cr.fetchone()
        if before != after:
            self._circuit_changed(before, after)
        if not success:
            self._pause_if_failing_since(failing_since)
        return before, after

    def _circuit_changed(self, before, after):
        labels = dict(CIRCUIT_STATES)
        _logger.warning("integration backend %s: circuit %s -> %s", self.code, before, after)
        if after == "open" or before == "open" or (before == "half_open" and after == "closed"):
            self.sudo().message_post(
                body=self.env._(
                    "Delivery circuit %(before)s → %(after)s.",
                    before=labels[before],
                    after=labels[after],
                )
            )

    def _pause_if_failing_since(self, failing_since):
        hours = self.pause_after_failing_hours
        if (
            not hours
            or self.state != "active"
            or not failing_since
            or failing_since > fields.Datetime.now() - timedelta(hours=hours)
        ):
            return
        self.sudo().state = "paused"
        self._notify_owner(
            self.env._(
                "Backend %(backend)s was paused: its deliveries have failed since %(since)s "
                "without a single success. Fix the receiver, then activate the backend again; "
                "waiting messages are delivered then.",
                backend=self.name,
                since=fields.Datetime.to_string(failing_since),
            )
        )

    def _notify_owner(self, body):
        """A message on the backend's chatter, sent to its owner (inbox or mail)."""
        owner = self.user_id.partner_id
        self.sudo().message_post(
            body=body,
            partner_ids=owner.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    def _compute_circuit(self):
        rows = {}
        if self.ids:
            self.env.cr.execute(
                """SELECT backend_id, state, failures, opened_at, last_success_at, failing_since
                     FROM integration_backend_circuit WHERE backend_id IN %s""",
                (tuple(self.ids),),
            )
            rows = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for backend in self:
            state, failures, opened, success, failing = rows.get(
                backend.id, ("closed", 0, None, None, None)
            )
            backend.circuit_state = state
            backend.circuit_failures = failures
            backend.circuit_opened_date = opened
            backend.last_delivery_success_date = success
            backend.failing_since = failing

    def _compute_recent_failures(self):
        attempts = self.env["integration.message.attempt"]
        for backend in self:
            backend.recent_failure_ids = attempts.search(
                [
                    ("message_id.backend_id", "=", backend.id),
                    ("message_id.direction", "=", "out"),
                    ("outcome", "=", "failed"),
                ],
                limit=10,
                order="id desc",
            )

    def action_reset_circuit(self):
        """Close the circuit by hand (after fixing the receiver)."""
        self._check_manager()
        for backend in self:
            if backend.circuit_state != "closed":
                backend._circuit_record(success=True)

    def action_send_test_event(self):
        """Queue an integration.test event to this backend and open its message."""
        self.ensure_one()
        self._check_manager()
        message = self.env["integration.subscription"]._emit_test(self)
        return message._related_action_message()

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_subscription_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action


def _public_key(private_key):
    raw = signatures.decode_key(private_key)
    if len(raw) != 32:
        raise ValueError("an Ed25519 private key holds 32 bytes")
    public = (
        Ed25519PrivateKey.from_private_bytes(raw)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return signatures.ED25519_PUBLIC_PREFIX + base64.b64encode(public).decode()
