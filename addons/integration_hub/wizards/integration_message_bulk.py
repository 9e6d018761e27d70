from collections import Counter

from odoo import api, fields, models

from ..models.integration_message import CANCELLABLE_STATES, REPLAYABLE_STATES, STATES

# Replayed by a bulk action unless a person explicitly asks to send done ones again.
BULK_REPLAY_STATES = tuple(state for state in REPLAYABLE_STATES if state != "done")


class IntegrationMessageBulk(models.TransientModel):
    """Replay or cancel a selection of messages, after saying what it will do."""

    _name = "integration.message.bulk"
    _description = "Replay or Cancel Messages"

    operation = fields.Selection(
        [("replay", "Replay"), ("cancel", "Cancel")], required=True, readonly=True
    )
    message_ids = fields.Many2many("integration.message", readonly=True)
    include_done = fields.Boolean(
        string="Also send done messages again",
        help="Done messages were processed or delivered already: processing them again "
        "may repeat their effect at the other end. Only when you are sure.",
    )
    summary = fields.Text(compute="_compute_plan", string="Selected")
    applicable_count = fields.Integer(compute="_compute_plan")
    skipped_summary = fields.Text(compute="_compute_plan", string="Left as they are")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "integration.message" and context.get("active_ids"):
            values["message_ids"] = [fields.Command.set(context["active_ids"])]
        return values

    def _applies(self, message):
        if self.operation == "cancel":
            return message.state in CANCELLABLE_STATES
        if message.payload_purged_date:
            return False
        return message.state in BULK_REPLAY_STATES or (
            self.include_done and message.state == "done"
        )

    def _count_lines(self, messages):
        labels = dict(STATES)
        counts = Counter(messages.mapped("state"))
        return "\n".join(
            f"{counts[state]} {labels[state].lower()}" for state, _label in STATES if counts[state]
        )

    @api.depends("operation", "message_ids", "include_done")
    def _compute_plan(self):
        for wizard in self:
            applicable = wizard.message_ids.filtered(wizard._applies)
            wizard.summary = wizard._count_lines(wizard.message_ids)
            wizard.applicable_count = len(applicable)
            wizard.skipped_summary = wizard._count_lines(wizard.message_ids - applicable)

    def action_confirm(self):
        self.ensure_one()
        messages = self.message_ids.filtered(self._applies)
        skipped = len(self.message_ids) - len(messages)
        if self.operation == "replay":
            messages.action_replay()
            done = self.env._("%(count)s messages queued again.", count=len(messages))
        else:
            messages.action_cancel()
            done = self.env._("%(count)s messages cancelled.", count=len(messages))
        if skipped:
            done += " " + self.env._("%(count)s left as they were (not applicable).", count=skipped)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Messages"),
                "message": done,
                "type": "success" if messages else "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
