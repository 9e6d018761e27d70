from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..fingerprint import DEAD_KIND
from .integration_exception import OPEN_STATES


class IntegrationIssue(models.Model):
    """Open exceptions and dead messages grouped by fingerprint: one problem, acted on
    as one. A database view; a user sees the groups holding failures they may see."""

    _name = "integration.issue"
    _description = "Integration Issue"
    _auto = False
    _order = "last_seen desc, id desc"
    _rec_name = "explanation"

    fingerprint = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    backend_id = fields.Many2one("integration.backend", readonly=True)
    event_type = fields.Char(readonly=True)
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
                       f.event_type, f.kind,
                       (array_agg(f.explanation ORDER BY f.seen DESC))[1] AS explanation,
                       count(*) FILTER (WHERE mod(f.row_id, 2) = 0) AS exception_count,
                       count(*) FILTER (WHERE mod(f.row_id, 2) = 1) AS dead_count,
                       count(*) AS failure_count,
                       min(f.seen) AS first_seen, max(f.seen) AS last_seen
                  FROM (
                    SELECT e.id * 2 AS row_id, e.fingerprint, e.company_id, e.backend_id,
                           e.event_type, e.kind, e.explanation, e.create_date AS seen
                      FROM integration_exception e
                     WHERE e.state IN %s AND e.fingerprint IS NOT NULL
                    UNION ALL
                    SELECT m.id * 2 + 1, m.failure_fingerprint, m.company_id, m.backend_id,
                           m.event_type, %s, m.last_error, m.write_date
                      FROM integration_message m
                     WHERE m.state = 'dead' AND m.failure_fingerprint IS NOT NULL
                  ) f
                 GROUP BY f.fingerprint, f.company_id, f.backend_id, f.event_type, f.kind
            )""",
                SQL.identifier(self._table),
                OPEN_STATES,
                DEAD_KIND,
            )
        )

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        """Only the groups holding a failure the user may see (record rules apply)."""
        query = super()._search(domain, offset, limit, order)
        if self.env.su or query.is_empty():
            return query
        visible = []
        for model, column, where in (
            ("integration.exception", "fingerprint", [("state", "in", OPEN_STATES)]),
            ("integration.message", "failure_fingerprint", [("state", "=", "dead")]),
        ):
            records = self.env[model]
            if not records.has_access("read"):
                continue
            sub = records._search(where)
            visible.append(
                SQL(
                    "(%s, %s) IN %s",
                    SQL.identifier(query.table, "fingerprint"),
                    SQL.identifier(query.table, "company_id"),
                    sub.subselect(
                        SQL.identifier(sub.table, column), SQL.identifier(sub.table, "company_id")
                    ),
                )
            )
        query.add_where(SQL("(%s)", SQL(" OR ").join(visible)) if visible else SQL("FALSE"))
        return query

    def _open_exceptions(self):
        """The group's open exceptions the user may see."""
        return self.env["integration.exception"].search(
            [
                ("state", "in", OPEN_STATES),
                ("fingerprint", "in", self.mapped("fingerprint")),
                ("company_id", "in", self.company_id.ids),
            ]
        )

    def _dead_messages(self):
        """The group's dead messages the user may see."""
        messages = self.env["integration.message"]
        if not self or not messages.has_access("read"):
            return messages
        return messages.search(
            [
                ("state", "=", "dead"),
                ("failure_fingerprint", "in", self.mapped("fingerprint")),
                ("company_id", "in", self.company_id.ids),
            ]
        )

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
