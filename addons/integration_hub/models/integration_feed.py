from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import delivery, feed
from ..retry import delay_after
from .integration_endpoint_items import INTAKE_JOB_PRIORITY


class IntegrationFeed(models.Model):
    """A "changes since" feed the hub pulls on a schedule, for systems that cannot push.

    Each run reads pages from the stored cursor: every item becomes an inbound message
    of the feed's endpoint (deduplicated on the item's id and updated-at), and the
    cursor moves to the page's next cursor in the same transaction as the page's
    messages. One page is one job, so a crash or a failed page resumes where the last
    committed page stopped, never skipping or storing twice. See feed.py for the
    format the hub expects.
    """

    _name = "integration.feed"
    _description = "Integration Pull Feed"
    _order = "backend_id, name"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    endpoint_id = fields.Many2one(
        "integration.endpoint",
        required=True,
        ondelete="cascade",
        help="The items become messages of this endpoint: its event types decide which "
        "are processed, and its sender ids deduplicate them.",
    )
    backend_id = fields.Many2one(related="endpoint_id.backend_id", store=True, index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    url = fields.Char(
        string="Feed URL",
        required=True,
        help="Called with GET, the backend's outbound authentication and its private "
        "network guard.",
    )
    cursor_param = fields.Char(string="Cursor parameter", required=True, default="since")
    limit_param = fields.Char(string="Page size parameter", required=True, default="limit")
    page_size = fields.Integer(required=True, default=200)
    interval_minutes = fields.Integer(string="Every (minutes)", required=True, default=15)
    cursor = fields.Char(
        readonly=True, copy=False, help="Where the next page starts; empty: from the start."
    )
    next_run_date = fields.Datetime(readonly=True, copy=False, default=fields.Datetime.now)
    last_success_date = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Char(readonly=True, copy=False)
    failure_count = fields.Integer(
        readonly=True, copy=False, help="Failed runs since the last page read."
    )
    item_count = fields.Integer(string="Items received", readonly=True, copy=False)
    duplicate_count = fields.Integer(string="Items already received", readonly=True, copy=False)
    refused_count = fields.Integer(string="Items refused", readonly=True, copy=False)
    last_refusal = fields.Char(
        readonly=True, copy=False, help="The last refused item: its id and what was wrong."
    )

    _sql_constraints = [
        ("page_size_positive", "CHECK(page_size > 0)", "The page size must be positive."),
        ("interval_positive", "CHECK(interval_minutes > 0)", "The interval must be positive."),
    ]

    @api.constrains("url", "backend_id")
    def _check_url(self):
        for record in self:
            try:
                delivery.check_url(record.url, allow_private=True)
            except ValueError as exc:
                raise ValidationError(
                    self.env._("Feed URL of %(feed)s: %(error)s", feed=record.name, error=exc)
                ) from exc

    # Scheduling ---------------------------------------------------------------

    @api.model
    def _cron_pull_due(self):
        """Queue a pull of every active feed whose next run has come."""
        feeds = self.search(
            [
                ("next_run_date", "<=", fields.Datetime.now()),
                ("backend_id.state", "=", "active"),
            ]
        )
        for record in feeds:
            record._enqueue_page()
        return feeds

    def _enqueue_page(self):
        """Queue the job reading the next page; one per feed at a time (a page job
        already waiting is reused)."""
        self.ensure_one()
        hub_env = self.env(user=self.env["integration.endpoint"]._webhook_uid(), su=True)
        return (
            self.with_env(hub_env)
            .with_delay(
                channel=self.backend_id.sudo().channel_id.complete_name or "root.integration",
                identity_key=f"integration.feed,{self.id},pull",
                priority=INTAKE_JOB_PRIORITY,
                description=f"Pull feed {self.name}",
            )
            ._job_pull_page()
        )

    def _lock(self):
        """Lock the feed for this transaction; False when another page job holds it."""
        self.env.cr.execute(
            "SELECT id FROM integration_feed WHERE id = %s FOR UPDATE SKIP LOCKED", [self.id]
        )
        return bool(self.env.cr.fetchone())

    def action_pull_now(self):
        self.ensure_one()
        self.next_run_date = fields.Datetime.now()
        self._enqueue_page()

    def action_restart(self):
        """Read the feed again from its start (items already received are not stored
        twice)."""
        self.write({"cursor": False, "next_run_date": fields.Datetime.now()})

    # One page -------------------------------------------------------------------

    def _job_pull_page(self):
        """Pull one page of an integration feed"""
        self.ensure_one()
        if not self.active or self.backend_id.state != "active":
            return f"Nothing to do: the feed or its backend is not active ({self.name})."
        if not self._lock():
            return "Nothing to do: another job is reading this feed."
        params = {self.limit_param: self.page_size}
        if self.cursor:
            params[self.cursor_param] = self.cursor
        backend = self.backend_id
        try:
            headers = backend._outbound_auth_headers()
        except (UserError, delivery.TokenError) as error:
            return self._record_failure(str(error.args[0]))
        try:
            body = feed.fetch_page(
                self.url,
                params,
                headers,
                backend._outbound_timeouts(),
                allow_private=backend.outbound_allow_private,
            )
            items, next_cursor, has_more = feed.parse_page(body)
        except feed.FeedError as error:
            return self._record_failure(str(error))
        stored, duplicates, refused = self._store_items(items)
        self.write(
            {
                "cursor": next_cursor if next_cursor is not None else self.cursor,
                "last_success_date": fields.Datetime.now(),
                "last_error": False,
                "failure_count": 0,
                "item_count": self.item_count + stored,
                "duplicate_count": self.duplicate_count + duplicates,
                "refused_count": self.refused_count + len(refused),
                "last_refusal": refused[-1] if refused else self.last_refusal,
            }
        )
        self.next_run_date = fields.Datetime.now() + timedelta(minutes=self.interval_minutes)
        if has_more and items and next_cursor is not None:
            # The next page is another job, hence another transaction: this page's
            # messages and cursor are committed first.
            self._enqueue_page()
        return f"{stored} stored, {duplicates} already received, {len(refused)} refused"

    def _record_failure(self, error):
        failures = self.failure_count + 1
        seconds = delay_after(failures, self.backend_id.backoff_schedule)
        self.write(
            {
                "failure_count": failures,
                "last_error": error[:255],
                "next_run_date": fields.Datetime.now() + timedelta(seconds=seconds),
            }
        )
        return f"Failed ({error}); next try in {seconds} s"

    def _store_items(self, items):
        """Store each item as a queued message of the endpoint: (stored, duplicates,
        refusals) where a refusal names the item and what was wrong with it."""
        endpoint = self.endpoint_id
        stored, duplicates, refused = 0, 0, []
        tickets = endpoint._ticket_stream()
        for index, item in enumerate(items):
            problem = feed.item_problem(item)
            if problem:
                refused.append(f"items/{index}: {problem}")
                continue
            outcome, detail = endpoint._store_item(
                feed.item_message_id(item), feed.item_envelope(item), item, tickets
            )
            if outcome == "refused":
                refused.append(f"{item['id']}: {detail}"[:255])
            elif outcome == "duplicate":
                duplicates += 1
            else:
                stored += 1
        return stored, duplicates, refused
