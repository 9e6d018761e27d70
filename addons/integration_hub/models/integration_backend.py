from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..retry import DEFAULT_SCHEDULE, parse_schedule
from .integration_message import BACKLOG_STATES

CHANNEL_PARENT = "root.integration"
WAITING_STATES = ("received", "queued", "retrying")
FAILED_STATES = ("dead", "exception")
# Oldest waiting message's age (minutes) a latency tier tolerates, unless configured
# (system parameter integration_hub.tier_target_minutes.<tier>).
TIER_TARGET_MINUTES = {"realtime": 5, "near_realtime": 60, "batch": 24 * 60}


class IntegrationBackend(models.Model):
    _name = "integration.backend"
    _description = "Integration Backend"
    _inherit = ["mail.thread", "integration.webhook.config.mixin"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        help="Short technical name, unique per company; names the job channel.",
    )
    system_type = fields.Selection(
        [
            ("scheduling", "Scheduling"),
            ("billing", "Billing"),
            ("ehr", "EHR"),
            ("lab", "Laboratory"),
            ("hr", "HR"),
            ("payroll", "Payroll"),
            ("supplier", "Supplier"),
            ("logistics", "Logistics"),
            ("payment", "Payment / bank"),
            ("bi", "BI"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        default=lambda self: self.env.user,
        tracking=True,
        help="Told when the backend needs attention.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("paused", "Paused")],
        required=True,
        default="draft",
        tracking=True,
        help="Only active backends receive messages; a paused backend's messages "
        "wait in the queue.",
    )
    active = fields.Boolean(default=True)
    record_domain_ids = fields.Many2many(
        "integration.domain",
        string="System of record for",
        help="Business domains this system owns; Odoo owns the others.",
    )
    latency_tier = fields.Selection(
        [
            ("realtime", "Real time"),
            ("near_realtime", "Near real time"),
            ("batch", "Batch"),
        ],
        required=True,
        default="near_realtime",
    )
    max_attempts = fields.Integer(
        default=5, help="Attempts before a technically failing message is dead."
    )
    backoff_schedule = fields.Char(
        default=DEFAULT_SCHEDULE,
        required=True,
        help="Seconds to wait after each failed attempt, comma-separated; the last delay repeats.",
    )
    batch_size = fields.Integer(
        string="Messages per job",
        default=50,
        help="A processing job also processes up to this many ready incoming messages "
        "of the backend, each as its own job would (own attempt and outcome), within "
        "a few seconds. 1 processes one message per job.",
    )
    payload_retention_days = fields.Integer(
        string="Retention (days)",
        default=90,
        help="Days a processed message (done, cancelled or ignored) is kept after its last "
        "change; then it is deleted with everything derived from its payload, which may "
        "hold personal data: attempts, errors, exceptions, jobs. 0 keeps them.",
    )
    failed_retention_days = fields.Integer(
        string="Retention of failures (days)",
        default=365,
        help="Days a dead or exception message, which waits for a person, is kept after "
        "its last change; then it is deleted like a processed one, and the backend's "
        "chatter counts the exceptions that went with it. 0 keeps them.",
    )
    channel_id = fields.Many2one(
        "queue.job.channel",
        string="Job channel",
        readonly=True,
        help="Channel of this backend's jobs, so a slow system never blocks another.",
    )
    outbound_url = fields.Char(string="Outbound base URL")
    outbound_auth_type = fields.Selection(
        [
            ("none", "None"),
            ("api_key", "API key header"),
            ("bearer", "Bearer token"),
            ("basic", "Basic"),
            ("oauth2", "OAuth2 client credentials"),
        ],
        default="none",
        required=True,
    )
    endpoint_ids = fields.One2many("integration.endpoint", "backend_id")
    exception_rule_ids = fields.One2many(
        "integration.exception.rule",
        "backend_id",
        string="Exception routing",
        help="Who this backend's new exceptions are assigned to, by kind; the owner when "
        "no rule applies.",
    )
    business_domain_codes = fields.Char(
        compute="_compute_business_domain_codes",
        help="The business domains this backend exchanges events of (its endpoints' and "
        "subscriptions' event types, and those it is the system of record for), "
        "comma-separated: a flow's settings show for its backends only.",
    )
    message_count = fields.Integer(compute="_compute_message_count")
    open_exception_count = fields.Integer(compute="_compute_message_count")

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(code, company_id)",
            "A backend with this code already exists in this company.",
        ),
        (
            "payload_retention_days_positive",
            "CHECK(payload_retention_days >= 0)",
            "The payload retention cannot be negative.",
        ),
        (
            "failed_retention_days_positive",
            "CHECK(failed_retention_days >= 0)",
            "The retention of failures cannot be negative.",
        ),
        (
            "max_attempts_positive",
            "CHECK(max_attempts > 0)",
            "A backend needs at least one attempt per message.",
        ),
        (
            "batch_size_positive",
            "CHECK(batch_size > 0)",
            "A processing job processes at least one message.",
        ),
    ]

    @api.constrains("backoff_schedule")
    def _check_backoff_schedule(self):
        for backend in self:
            try:
                parse_schedule(backend.backoff_schedule)
            except ValueError as exc:
                raise models.ValidationError(
                    self.env._(
                        "Backoff schedule of %(backend)s: %(error)s",
                        backend=backend.name,
                        error=exc,
                    )
                ) from exc

    def _retry_policy(self, direction):
        """(attempts, backoff schedule) of the messages of ``direction``."""
        self.ensure_one()
        if direction == "out":
            return self.outbound_max_attempts, self.outbound_backoff_schedule
        return self.max_attempts, self.backoff_schedule

    @api.depends(
        "record_domain_ids.code",
        "endpoint_ids.event_type_ids.domain_id.code",
        "subscription_ids.event_type_id.domain_id.code",
    )
    def _compute_business_domain_codes(self):
        for backend in self:
            # Clerks who may read the backend, not its endpoints or subscriptions, see
            # the codes: a summary of the configuration, not the configuration.
            configured = backend.sudo()
            subscriptions = configured.with_context(active_test=False).subscription_ids
            domains = (
                configured.record_domain_ids
                | configured.endpoint_ids.event_type_ids.domain_id
                | subscriptions.event_type_id.domain_id
            )
            backend.business_domain_codes = ",".join(sorted(set(domains.mapped("code"))))

    def _has_business_domain(self, *codes):
        """Whether the backend exchanges events of one of the business domains ``codes``."""
        self.ensure_one()
        return bool(set(codes) & set((self.business_domain_codes or "").split(",")))

    def _compute_message_count(self):
        counts = dict.fromkeys(self.ids, 0)
        exceptions = dict.fromkeys(self.ids, 0)
        if self.ids:
            # The backlog, as the Messages view opened from here shows by default: a
            # count of every message would cost a scan of the backend's whole store.
            for backend, count in self.env["integration.message"]._read_group(
                [("backend_id", "in", self.ids), ("state", "in", BACKLOG_STATES)],
                ["backend_id"],
                ["__count"],
            ):
                counts[backend.id] = count
            for backend, count in self.env["integration.exception"]._read_group(
                [("backend_id", "in", self.ids), ("state", "in", ("open", "in_progress"))],
                ["backend_id"],
                ["__count"],
            ):
                exceptions[backend.id] = count
        for backend in self:
            backend.message_count = counts.get(backend.id, 0)
            backend.open_exception_count = exceptions.get(backend.id, 0)

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        for backend in backends.filtered(lambda b: not b.channel_id):
            backend.channel_id = backend._ensure_channel()
        backends._allow_hub_user_in_companies()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            self._allow_hub_user_in_companies()
        return result

    def _allow_hub_user_in_companies(self):
        """The hub's service user, which runs every job, works in each company that has
        a backend (Odoo refuses a company outside a user's, even in superuser mode)."""
        hub_user = self.env.ref("integration_hub.user_integration_hub").sudo()
        missing = self.company_id - hub_user.company_ids
        if missing:
            hub_user.write({"company_ids": [(4, company.id) for company in missing]})

    def _ensure_channel(self):
        self.ensure_one()
        parent = self.env.ref("integration_hub.queue_job_channel_integration")
        channel_model = self.env["queue.job.channel"].sudo()
        name = f"{self.company_id.id}_{self.code}".replace(".", "_")
        channel = channel_model.search(
            [("name", "=", name), ("parent_id", "=", parent.id)], limit=1
        )
        return channel or channel_model.create({"name": name, "parent_id": parent.id})

    def action_activate(self):
        self.write({"state": "active"})

    def action_pause(self):
        self.write({"state": "paused"})

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_message_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id, "search_default_backlog": 1}
        return action

    def action_view_exceptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_exception_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    # Overview dashboard ----------------------------------------------------------

    overview_day_count = fields.Integer(string="Last 24 h", compute="_compute_overview")
    overview_hour_count = fields.Integer(string="Last hour", compute="_compute_overview")
    overview_failure_rate = fields.Float(
        string="Failure rate (24 h)",
        compute="_compute_overview",
        help="Share of the last 24 hours' messages that are dead or in exception.",
    )
    overview_backlog_count = fields.Integer(string="Waiting", compute="_compute_overview")
    overview_dead_count = fields.Integer(string="Dead", compute="_compute_overview")
    overview_oldest_minutes = fields.Integer(
        string="Oldest waiting (min)", compute="_compute_overview"
    )
    overview_target_minutes = fields.Integer(
        string="Target (min)",
        compute="_compute_overview",
        help="How long a message of this backend's latency tier may wait.",
    )
    overview_late = fields.Boolean(compute="_compute_overview")

    @api.model
    def _tier_target_minutes(self, tier):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(f"integration_hub.tier_target_minutes.{tier}")
        )
        return int(value) if value and value.isdigit() else TIER_TARGET_MINUTES[tier]

    def _compute_overview(self):
        now = fields.Datetime.now()
        day = dict.fromkeys(self.ids, 0)
        hour = dict.fromkeys(self.ids, 0)
        failed = dict.fromkeys(self.ids, 0)
        waiting = dict.fromkeys(self.ids, 0)
        dead = dict.fromkeys(self.ids, 0)
        oldest = {}
        if self.ids:
            cr = self.env.cr
            # Recent messages through the (backend, create_date) index; the backlog
            # through the live states, never the whole store.
            cr.execute(
                """SELECT backend_id, count(*),
                          count(*) FILTER (WHERE create_date > %s),
                          count(*) FILTER (WHERE state IN %s)
                     FROM integration_message
                    WHERE backend_id IN %s AND create_date > %s
                 GROUP BY backend_id""",
                (now - timedelta(hours=1), FAILED_STATES, tuple(self.ids), now - timedelta(days=1)),
            )
            for backend_id, day_count, hour_count, failed_count in cr.fetchall():
                day[backend_id], hour[backend_id] = day_count, hour_count
                failed[backend_id] = failed_count
            cr.execute(
                """SELECT backend_id, state, count(*), min(create_date)
                     FROM integration_message
                    WHERE backend_id IN %s AND state IN %s
                 GROUP BY backend_id, state""",
                (tuple(self.ids), (*WAITING_STATES, "dead")),
            )
            for backend_id, state, count, first in cr.fetchall():
                if state == "dead":
                    dead[backend_id] = count
                    continue
                waiting[backend_id] += count
                oldest[backend_id] = min(first, oldest.get(backend_id, first))
        for backend in self:
            backend.overview_day_count = day.get(backend.id, 0)
            backend.overview_hour_count = hour.get(backend.id, 0)
            total = day.get(backend.id, 0)
            backend.overview_failure_rate = (
                100.0 * failed.get(backend.id, 0) / total if total else 0.0
            )
            backend.overview_backlog_count = waiting.get(backend.id, 0)
            backend.overview_dead_count = dead.get(backend.id, 0)
            first = oldest.get(backend.id)
            backend.overview_oldest_minutes = (
                int((now - first).total_seconds() // 60) if first else 0
            )
            backend.overview_target_minutes = self._tier_target_minutes(backend.latency_tier)
            backend.overview_late = bool(first) and (
                backend.overview_oldest_minutes > backend.overview_target_minutes
            )

    alert_ids = fields.One2many("integration.alert", "backend_id")
    overview_alert_count = fields.Integer(
        string="Alerts firing", compute="_compute_overview_alert_count"
    )

    def _compute_overview_alert_count(self):
        counts = dict(
            self.env["integration.alert"]._read_group(
                [("backend_id", "in", self.ids), ("state", "=", "firing")],
                ["backend_id"],
                ["__count"],
            )
        )
        for backend in self:
            backend.overview_alert_count = counts.get(backend, 0)

    def _alert_figures(self):
        """{backend id: figures} for alerts.measure: the Overview's own figures (its
        queries run once for all of ``self``), the circuit and the flows' gaps."""
        # Measured now: the Overview's figures are computed in SQL, never stored.
        self.env["integration.message"].flush_model()
        self.invalidate_recordset(
            [name for name, field in self._fields.items() if field.compute == "_compute_overview"]
            + ["circuit_state"]
        )
        gaps = self._overview_gaps()
        return {
            backend.id: {
                "oldest_minutes": backend.overview_oldest_minutes,
                "target_minutes": backend.overview_target_minutes,
                "dead_count": backend.overview_dead_count,
                "failure_rate": backend.overview_failure_rate,
                "circuit_state": backend.circuit_state,
                "gaps": gaps.get(backend.id, {}),
            }
            for backend in self
        }

    def action_view_alerts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_alert_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"search_default_firing": 1}
        return action

    @api.model
    def _overview_gap_labels(self):
        """[(gap code, label)] of the reconciliation gaps the flows count (see
        _overview_gaps); a flow adds its own to super()'s."""
        return []

    def _overview_gaps(self):
        """{backend id: {gap code: count}}: what is stuck between each backend's system
        and Odoo's records (charges not invoiced, consumptions pending, …). The one
        extension point of the flows' reconciliation gaps: a flow adds its counts to
        super()'s, with one grouped query for all of ``self``, never a scan of its
        history, and only when the user may open the list behind them."""
        return {backend.id: {} for backend in self}

    def _overview_gap_action(self, code):
        """The list behind the gap ``code`` of this backend's card; a flow returns the
        action of its own gaps and calls super() for the others."""
        raise UserError(self.env._("Unknown reconciliation gap: %(code)s", code=code))

    overview_gaps = fields.Json(
        string="Reconciliation gaps",
        compute="_compute_overview_gaps",
        help="Counts by gap code of what is stuck between the system and Odoo.",
    )

    def _compute_overview_gaps(self):
        gaps = self._overview_gaps()
        for backend in self:
            backend.overview_gaps = gaps.get(backend.id, {})

    # Pull feeds' health, on the form and the card ----------------------------------

    feed_ids = fields.One2many("integration.feed", "backend_id", string="Pull feeds")
    feed_failing_count = fields.Integer(
        string="Failing pull feeds",
        compute="_compute_feed_health",
        help="Active pull feeds whose last run failed: they back off and try again.",
    )
    feed_alert = fields.Char(
        string="Pull feed failure",
        compute="_compute_feed_health",
        help="The failing feed that has failed the longest, and its last error.",
    )

    @api.depends("feed_ids.failure_count", "feed_ids.last_error", "feed_ids.active")
    def _compute_feed_health(self):
        failing = self.env["integration.feed"].search(
            [("backend_id", "in", self.ids), ("failure_count", ">", 0)],
            order="failure_count desc, id",
        )
        for backend in self:
            feeds = failing.filtered(lambda feed, b=backend: feed.backend_id == b)
            backend.feed_failing_count = len(feeds)
            backend.feed_alert = (
                self.env._(
                    "Pull feed %(feed)s failed %(count)s times in a row: %(error)s. "
                    "It backs off and tries again; its items wait at the feed.",
                    feed=feeds[0].name,
                    count=feeds[0].failure_count,
                    error=feeds[0].last_error or "?",
                )
                if feeds
                else False
            )

    def action_overview_open(self):
        """Open the list behind one figure of the Overview card (context 'figure')."""
        self.ensure_one()
        figure = self.env.context.get("figure")
        if figure == "alerts":
            return self.action_view_alerts()
        if figure == "gap":
            return self._overview_gap_action(self.env.context.get("gap"))
        if figure == "feeds":
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "integration_hub.integration_feed_action"
            )
            action["domain"] = [("backend_id", "=", self.id), ("failure_count", ">", 0)]
            return action
        if figure == "exceptions":
            action = self.action_view_exceptions()
            action["domain"] = [
                ("backend_id", "=", self.id),
                ("state", "in", ("open", "in_progress")),
            ]
            return action
        action = self.action_view_messages()
        since = fields.Datetime.now() - (
            timedelta(hours=1) if figure == "hour" else timedelta(days=1)
        )
        domains = {
            "hour": [("create_date", ">", since)],
            "day": [("create_date", ">", since)],
            "failed": [("create_date", ">", since), ("state", "in", FAILED_STATES)],
            "backlog": [("state", "in", WAITING_STATES)],
            "dead": [("state", "=", "dead")],
        }
        action["domain"] = [("backend_id", "=", self.id), *domains.get(figure, [])]
        return action
