from odoo import api, fields, models
from odoo.exceptions import UserError


class IntegrationIssueConfirm(models.TransientModel):
    """Retry, ignore or assign every failure of an issue, after saying how many."""

    _name = "integration.issue.confirm"
    _description = "Act on an Integration Issue"

    issue_id = fields.Many2one("integration.issue", required=True, ondelete="cascade")
    operation = fields.Selection(
        [("retry", "Retry all"), ("ignore", "Ignore all"), ("assign", "Assign all")],
        required=True,
    )
    user_id = fields.Many2one("res.users", string="Assign to", domain=[("share", "=", False)])
    summary = fields.Char(compute="_compute_summary")

    @api.depends("issue_id", "operation")
    def _compute_summary(self):
        for wizard in self:
            exceptions = wizard.issue_id._open_exceptions()
            messages = wizard.issue_id._dead_messages()
            counts = {"exceptions": len(exceptions), "messages": len(messages)}
            if wizard.operation == "retry":
                text = self.env._(
                    "Process again the messages of %(exceptions)s open exception(s) and "
                    "%(messages)s dead message(s).",
                    **counts,
                )
            elif wizard.operation == "ignore":
                text = self.env._(
                    "Close %(exceptions)s open exception(s) and cancel their messages, and "
                    "cancel %(messages)s dead message(s).",
                    **counts,
                )
            else:
                text = self.env._(
                    "Assign %(exceptions)s open exception(s) to the user below; dead "
                    "messages have no assignee.",
                    **counts,
                )
            wizard.summary = text

    def _check_may_act_on_messages(self, messages):
        if messages and not messages.has_access("write"):
            raise UserError(
                self.env._(
                    "Only integration managers can replay or cancel dead messages; ask one, "
                    "or act on the exceptions alone from the issue's exception list."
                )
            )

    def action_confirm(self):
        self.ensure_one()
        exceptions = self.issue_id._open_exceptions()
        messages = self.issue_id._dead_messages()
        if self.operation == "assign":
            if not self.user_id:
                raise UserError(self.env._("Choose the user to assign the exceptions to."))
            exceptions.write({"user_id": self.user_id.id})
        elif self.operation == "retry":
            self._check_may_act_on_messages(messages)
            if exceptions:
                exceptions.action_retry()
            if messages:
                messages.action_replay()
        else:
            self._check_may_act_on_messages(messages)
            if exceptions:
                exceptions.action_ignore()
            if messages:
                messages.action_cancel()
        return {"type": "ir.actions.act_window_close"}
