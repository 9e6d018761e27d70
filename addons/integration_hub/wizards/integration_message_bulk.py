import ast

from odoo import api, fields, models
from odoo.osv import expression

from ..models.integration_message import STATES
from ..models.integration_message_bulk_run import CHUNK_SIZE

# The web client searches at most this many ids for "select all"; the domain has them all.
ACTIVE_IDS_LIMIT = 20000


class IntegrationMessageBulk(models.TransientModel):
    """Replay or cancel a selection of messages, after saying what it will do.

    The selection is the rows ticked in the Messages list, or, when *Select all* is
    used, the list's whole filter (every dead message of a backend between two dates):
    more than one chunk of messages then runs as jobs, with its progress on a bulk run.
    """

    _name = "integration.message.bulk"
    _description = "Replay or Cancel Messages"

    operation = fields.Selection(
        [("replay", "Replay"), ("cancel", "Cancel")], required=True, readonly=True
    )
    message_ids = fields.Many2many("integration.message", readonly=True)
    domain = fields.Char(
        readonly=True, help="The Messages list's filter, when all its messages are selected."
    )
    include_done = fields.Boolean(
        string="Also send done messages again",
        help="Done messages were processed or delivered already: processing them again "
        "may repeat their effect at the other end. Only when you are sure.",
    )
    summary = fields.Text(compute="_compute_plan", string="Selected")
    applicable_count = fields.Integer(compute="_compute_plan")
    skipped_summary = fields.Text(compute="_compute_plan", string="Left as they are")
    in_background = fields.Boolean(
        compute="_compute_plan",
        help="More messages than one chunk: they are changed by jobs, with their progress.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") != "integration.message":
            return values
        active_ids = context.get("active_ids") or []
        active_domain = context.get("active_domain")
        # The client passes its filter with any selection; all of it is selected when
        # the ids it found are the filter's every message (or as many as it looks for).
        if active_domain is not None and active_ids:
            total = self.env["integration.message"].search_count(active_domain)
            if len(active_ids) >= min(total, ACTIVE_IDS_LIMIT):
                values["domain"] = repr(active_domain)
                return values
        if active_ids:
            values["message_ids"] = [fields.Command.set(active_ids)]
        return values

    def _selection_domain(self):
        self.ensure_one()
        if self.domain:
            return ast.literal_eval(self.domain)
        return [("id", "in", self.message_ids.ids)]

    def _applicable_domain(self):
        return expression.AND(
            [
                self._selection_domain(),
                self.env["integration.message"]._bulk_domain(self.operation, self.include_done),
            ]
        )

    def _counts(self, domain):
        return dict(self.env["integration.message"]._read_group(domain, ["state"], ["__count"]))

    @api.model
    def _count_lines(self, counts):
        return "\n".join(
            f"{counts[state]} {label.lower()}" for state, label in STATES if counts.get(state)
        )

    @api.depends("operation", "message_ids", "domain", "include_done")
    def _compute_plan(self):
        for wizard in self:
            selected = wizard._counts(wizard._selection_domain())
            applicable = wizard._counts(wizard._applicable_domain())
            wizard.summary = wizard._count_lines(selected)
            wizard.applicable_count = sum(applicable.values())
            wizard.skipped_summary = wizard._count_lines(
                {state: count - applicable.get(state, 0) for state, count in selected.items()}
            )
            wizard.in_background = wizard.applicable_count > CHUNK_SIZE

    def action_confirm(self):
        self.ensure_one()
        messages = self.env["integration.message"].search(self._applicable_domain(), order="id")
        selected = self.env["integration.message"].search_count(self._selection_domain())
        if len(messages) > CHUNK_SIZE:
            run = self.env["integration.message.bulk.run"]._start(
                self.operation, messages, include_done=self.include_done, description=self.summary
            )
            return {
                "type": "ir.actions.act_window",
                "res_model": run._name,
                "res_id": run.id,
                "view_mode": "form",
                "views": [(False, "form")],
                "target": "current",
            }
        refused = messages._bulk_apply(self.operation)
        changed = len(messages) - refused
        if self.operation == "replay":
            done = self.env._("%(count)s messages queued again.", count=changed)
        else:
            done = self.env._("%(count)s messages cancelled.", count=changed)
        skipped = selected - changed
        if skipped:
            done += " " + self.env._("%(count)s left as they were (not applicable).", count=skipped)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Messages"),
                "message": done,
                "type": "success" if changed else "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
