from odoo import api, fields, models

from .. import alerts

# The outbound event an alert is delivered as (payload: integration.alert's field map).
ALERT_EVENT = "hub.alert"


class IntegrationAlert(models.Model):
    """One episode of an alert rule on a backend: from the moment its condition holds
    until it clears. It fires once (an activity, a hub.alert event) and resolves itself."""

    _name = "integration.alert"
    _description = "Integration Alert"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    rule_id = fields.Many2one(
        "integration.alert.rule", required=True, readonly=True, ondelete="cascade", index=True
    )
    backend_id = fields.Many2one(
        "integration.backend", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    condition = fields.Selection(alerts.CONDITIONS, required=True, readonly=True)
    state = fields.Selection(
        [("pending", "Holding"), ("firing", "Firing"), ("resolved", "Resolved")],
        required=True,
        default="pending",
        readonly=True,
        index=True,
        tracking=True,
    )
    value = fields.Float(digits=(16, 2), readonly=True, help="The figure when last measured.")
    threshold = fields.Float(digits=(16, 2), readonly=True)
    since = fields.Datetime(readonly=True, help="When the condition started to hold.")
    fired_at = fields.Datetime(readonly=True)
    resolved_at = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Notified", readonly=True)

    @api.depends("rule_id.name", "backend_id.name")
    def _compute_name(self):
        for alert in self:
            alert.name = f"{alert.rule_id.name} · {alert.backend_id.name}"

    @api.model
    def _apply(self, rule, backend, alert, *, state, value, limit, now):
        """Move the (rule, backend) episode ``alert`` (maybe empty) to ``state``;
        returns it when its state changed."""
        if not state:
            alert.unlink()  # a pending episode that cleared: nobody was told
            return self.browse()
        values = {"value": value, "threshold": limit}
        if not alert:
            alert = self.create(
                dict(
                    values,
                    rule_id=rule.id,
                    backend_id=backend.id,
                    condition=rule.condition,
                    since=now,
                )
            )
            if state == "pending":
                return alert
        elif alert.state == state:
            # Still holding or firing: nobody is told again; the row changes only
            # when its figure does.
            if (alert.value, alert.threshold) != (round(value, 2), round(limit, 2)):
                alert.write(values)
            return self.browse()
        else:
            alert.write(values)
        if state == "firing":
            alert._fire(rule, backend, now)
        elif state == "resolved":
            alert._resolve(now)
        return alert

    def _fire(self, rule, backend, now):
        self.ensure_one()
        user = rule.user_id or backend.user_id
        self.write({"state": "firing", "fired_at": now, "user_id": user.id})
        if user:
            # No e-mail from the cron's user (it may have no address): the activity
            # shows in the owner's activities, on the alert.
            self.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self._summary(),
                note=self.env._(
                    "%(summary)s. It resolves itself when the condition clears; open the "
                    "backend's Overview card to see why.",
                    summary=self._summary(),
                ),
                user_id=user.id,
            )
        self._integration_emit(ALERT_EVENT)

    def _resolve(self, now):
        self.ensure_one()
        self.write({"state": "resolved", "resolved_at": now})
        self.activity_ids.action_feedback(
            feedback=self.env._("The condition cleared: the alert resolved itself.")
        )
        self._integration_emit(ALERT_EVENT)

    def _summary(self):
        self.ensure_one()
        conditions = dict(self._fields["condition"]._description_selection(self.env))
        # Not in the call: an f-string argument of _() hides the whole file's terms
        # from the translation exporter (babel).
        value, threshold = f"{self.value:g}", f"{self.threshold:g}"
        return self.env._(
            "%(backend)s: %(condition)s (%(value)s, above %(threshold)s)",
            backend=self.backend_id.name,
            condition=conditions.get(self.condition, self.condition),
            value=value,
            threshold=threshold,
        )

    def action_open_backend(self):
        self.ensure_one()
        return self.backend_id.get_formview_action()
