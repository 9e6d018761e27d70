from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from ..fingerprint import DEAD_KIND
from .integration_exception import OPEN_STATES


class IntegrationIssue(models.Model):
    """Open exceptions and dead messages grouped by fingerprint: one problem, acted on
    as one. A database view.

    A row holds failures of one company and one business domain (flow), the granularity
    of the record rules on exceptions and messages (company; the flows a role works in):
    a reader may open all of a row's failures or none, so the row is shown whole (its
    counts are what the reader can open) or not at all.
    """

    _name = "integration.issue"
    _description = "Integration Issue"
    _auto = False
    _order = "last_seen desc, id desc"
    _rec_name = "explanation"

    fingerprint = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    backend_id = fields.Many2one("integration.backend", readonly=True)
    event_type = fields.Char(readonly=True)
    business_domain = fields.Char(string="Business domain", readonly=True)
    kind = fields.Selection(selection="_selection_kind", readonly=True)
    explanation = fields.Text(string="Sample explanation", readonly=True)
    exception_count = fields.Integer(string="Open exceptions", readonly=True)
    dead_count = fields.Integer(string="Dead message count", readonly=True)
    failure_count = fields.Integer(string="Count", readonly=True)
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True)
    exception_ids = fields.Many2many(
        "integration.exception", compute="_compute_failures", string="Exceptions"
    )
    message_ids = fields.Many2many(
        "integration.message", compute="_compute_failures", string="Dead messages"
    )
    suggested_fix = fields.Text(compute="_compute_suggested_fix")
    suggested_fix_evidence_ids = fields.Many2many(
        "integration.exception",
        compute="_compute_suggested_fix",
        string="Earlier exceptions fixed so",
    )

    @api.model
    def _selection_kind(self):
        kinds = self.env["integration.exception"]._fields["kind"]._description_selection(self.env)
        return [*kinds, (DEAD_KIND, self.env._("Dead (technical failure)"))]

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # A row's id is its oldest failure's (even for exceptions, odd for messages):
        # stable while that failure stays open or dead.
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %s AS (
                SELECT min(f.row_id) AS id, f.fingerprint, f.company_id, f.backend_id,
                       f.event_type, f.business_domain, f.kind,
                       (array_agg(f.explanation ORDER BY f.seen DESC))[1] AS explanation,
                       count(*) FILTER (WHERE mod(f.row_id, 2) = 0) AS exception_count,
                       count(*) FILTER (WHERE mod(f.row_id, 2) = 1) AS dead_count,
                       count(*) AS failure_count,
                       min(f.seen) AS first_seen, max(f.seen) AS last_seen
                  FROM (
                    SELECT e.id * 2 AS row_id, e.fingerprint, e.company_id, e.backend_id,
                           e.event_type, e.business_domain, e.kind, e.explanation,
                           e.create_date AS seen
                      FROM integration_exception e
                     WHERE e.state IN %s AND e.fingerprint IS NOT NULL
                    UNION ALL
                    SELECT m.id * 2 + 1, m.failure_fingerprint, m.company_id, m.backend_id,
                           m.event_type, d.code, %s, m.last_error, m.write_date
                      FROM integration_message m
                      LEFT JOIN integration_event_type t ON t.id = m.event_type_id
                      LEFT JOIN integration_domain d ON d.id = t.domain_id
                     WHERE m.state = 'dead' AND m.failure_fingerprint IS NOT NULL
                  ) f
                 GROUP BY f.fingerprint, f.company_id, f.backend_id, f.event_type,
                          f.business_domain, f.kind
            )""",
                SQL.identifier(self._table),
                OPEN_STATES,
                DEAD_KIND,
            )
        )

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        """Only the rows the user may open (record rules apply): a row's failures share
        its company and flow, so the row is the reader's when its first failure (the
        row's id: an exception's id * 2, a dead message's id * 2 + 1) is."""
        query = super()._search(domain, offset, limit, order)
        if self.env.su or query.is_empty():
            return query
        visible = []
        for model, parity, where in (
            ("integration.exception", 0, [("state", "in", OPEN_STATES)]),
            ("integration.message", 1, [("state", "=", "dead")]),
        ):
            records = self.env[model]
            if not records.has_access("read"):
                continue
            sub = records._search(where)
            visible.append(
                SQL(
                    "(mod(%(id)s, 2) = %(parity)s AND (%(id)s - %(parity)s) / 2 IN %(ids)s)",
                    id=SQL.identifier(query.table, "id"),
                    parity=parity,
                    ids=sub.subselect(),
                )
            )
        query.add_where(SQL("(%s)", SQL(" OR ").join(visible)) if visible else SQL("FALSE"))
        return query

    def _open_exceptions(self):
        """The rows' open exceptions the user may see: same fingerprint, company and
        business domain."""
        exceptions = self.env["integration.exception"]
        if not self:
            return exceptions
        rows = expression.OR(
            [
                ("fingerprint", "=", issue.fingerprint),
                ("company_id", "=", issue.company_id.id),
                ("business_domain", "=", issue.business_domain or False),
            ]
            for issue in self
        )
        return exceptions.search(expression.AND([[("state", "in", OPEN_STATES)], rows]))

    def _dead_messages(self):
        """The rows' dead messages the user may see: same fingerprint, company and
        business domain (of their event type, which flow clerks may not read)."""
        messages = self.env["integration.message"]
        if not self or not messages.has_access("read"):
            return messages
        event_types = self.env["integration.event.type"].sudo().with_context(active_test=False)
        rows = []
        for issue in self:
            if issue.business_domain:
                types = event_types.search([("domain_id.code", "=", issue.business_domain)])
                flow = [("event_type_id", "in", types.ids)]
            else:
                types = event_types.search([("domain_id", "=", False)])
                flow = ["|", ("event_type_id", "=", False), ("event_type_id", "in", types.ids)]
            rows.append(
                [
                    ("failure_fingerprint", "=", issue.fingerprint),
                    ("company_id", "=", issue.company_id.id),
                    *flow,
                ]
            )
        return messages.search(expression.AND([[("state", "=", "dead")], expression.OR(rows)]))

    def _compute_failures(self):
        for issue in self:
            issue.exception_ids = issue._open_exceptions()
            issue.message_ids = issue._dead_messages()

    def _compute_suggested_fix(self):
        for issue in self:
            exceptions = issue._open_exceptions()
            suggestions = dict.fromkeys(e.suggested_fix for e in exceptions if e.suggested_fix)
            issue.suggested_fix = "\n".join(suggestions) or False
            issue.suggested_fix_evidence_ids = exceptions.suggested_fix_evidence_ids

    # Actions -----------------------------------------------------------------

    def action_open_exceptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_exception_action"
        )
        action.update(
            domain=[("id", "in", self._open_exceptions().ids)],
            context={},
            view_mode="list,kanban,form",
            views=[(False, "list"), (False, "kanban"), (False, "form")],
        )
        return action

    def action_open_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_hub.integration_message_action"
        )
        action.update(domain=[("id", "in", self._dead_messages().ids)], context={})
        return action

    def _confirm(self, operation):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Act on the issue"),
            "res_model": "integration.issue.confirm",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_issue_id": self.id, "default_operation": operation},
        }

    def action_retry_all(self):
        return self._confirm("retry")

    def action_ignore_all(self):
        return self._confirm("ignore")

    def action_assign_all(self):
        return self._confirm("assign")

    def action_apply_suggested_fix(self):
        self.ensure_one()
        exceptions = self._open_exceptions().filtered("suggested_fix")
        if not exceptions:
            raise UserError(self.env._("There is no earlier fix to apply to this issue."))
        return exceptions.action_apply_suggested_fix()
