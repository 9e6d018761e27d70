import logging

from odoo import api, fields, models

from .. import alerts

_logger = logging.getLogger(__name__)


class IntegrationAlertRule(models.Model):
    """A condition on a backend's figures (or every backend's) that tells a person
    once when it starts to hold, and again when it clears."""

    _name = "integration.alert.rule"
    _description = "Integration Alert Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    backend_id = fields.Many2one(
        "integration.backend",
        ondelete="cascade",
        domain="[('company_id', '=', company_id)]",
        help="Empty: every active or paused backend of the company.",
    )
    condition = fields.Selection(alerts.CONDITIONS, required=True, default="late")
    threshold = fields.Float(
        string="Above",
        digits=(16, 2),
        help="The rule fires when the figure is over this value: dead messages, failure "
        "rate in %, gap size. The oldest waiting message is measured against its latency "
        "tier's target instead, an open circuit needs none.",
    )
    gap_code = fields.Selection(
        selection="_selection_gap_code",
        string="Gap",
        help="The reconciliation gap a 'Reconciliation gap' rule watches.",
    )
    hold_minutes = fields.Integer(
        string="For more than (min)",
        help="Fire only when the condition has held this long; 0 fires at once.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Notify",
        help="Who gets the activity when it fires; the backend's owner when empty.",
    )
    alert_ids = fields.One2many("integration.alert", "rule_id")
    firing_count = fields.Integer(compute="_compute_firing_count", string="Firing")

    _sql_constraints = [
        ("threshold_positive", "CHECK(threshold >= 0)", "An alert threshold cannot be negative."),
        ("hold_positive", "CHECK(hold_minutes >= 0)", "The holding time cannot be negative."),
    ]

    @api.model
    def _selection_gap_code(self):
        return self.env["integration.backend"]._overview_gap_labels()

    @api.constrains("condition", "gap_code")
    def _check_gap_code(self):
        for rule in self:
            if rule.condition == "gap" and not rule.gap_code:
                raise models.ValidationError(
                    self.env._("Alert rule %(rule)s: choose the gap it watches.", rule=rule.name)
                )

    def _compute_firing_count(self):
        counts = dict(
            self.env["integration.alert"]._read_group(
                [("rule_id", "in", self.ids), ("state", "=", "firing")], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.firing_count = counts.get(rule, 0)

    def _backends(self, all_backends):
        self.ensure_one()
        if self.backend_id:
            return self.backend_id & all_backends
        return all_backends.filtered(lambda b: b.company_id == self.company_id)

    @api.model
    def _cron_evaluate(self):
        """Evaluate every active rule on its backends' Overview figures: one set of the
        Overview's queries for all backends, whatever the number of rules. An alert
        whose rule was archived or whose backend went back to draft is no longer
        watched: it resolves. Returns the alerts that changed state."""
        rules = self.sudo().search([])
        backends = self.env["integration.backend"].sudo().search([("state", "!=", "draft")])
        alert_model = self.env["integration.alert"].sudo()
        open_alerts = {
            (alert.rule_id.id, alert.backend_id.id): alert
            for alert in alert_model.search([("state", "in", ("pending", "firing"))])
        }
        figures = backends._alert_figures() if rules and backends else {}
        now = fields.Datetime.now()
        changed = alert_model
        for rule in rules:
            for backend in rule._backends(backends):
                value, limit = alerts.measure(
                    rule.condition, figures[backend.id], rule.threshold, rule.gap_code
                )
                alert = open_alerts.pop((rule.id, backend.id), alert_model)
                state = alerts.step(
                    value > limit, alert.state or None, alert.since, now, rule.hold_minutes
                )
                changed |= alert_model._apply(
                    rule, backend, alert, state=state, value=value, limit=limit, now=now
                )
        for alert in open_alerts.values():  # no longer watched
            state = alerts.step(False, alert.state, alert.since, now)
            changed |= alert_model._apply(
                alert.rule_id,
                alert.backend_id,
                alert,
                state=state,
                value=alert.value,
                limit=alert.threshold,
                now=now,
            )
        return changed
